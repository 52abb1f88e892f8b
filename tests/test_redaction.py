"""The one secret-key rule: what the client records and what the errors page shows are masked the same way."""

from portal.salesforce.redaction import REDACTED, redacted
from portal.sync_errors.presenters import pretty_trail


def test_credentials_are_masked_at_any_depth_and_other_values_kept():
    trail = {
        "headers": {"Authorization": "Bearer abc", "Set-Cookie": "sid=1"},
        "body": [{"access_token": "t", "client_secret": "s", "code": "c", "code_verifier": "v", "signature": "g"}],
        "errorCode": "INVALID_FIELD",
        "LastName": "Kept",
    }

    masked = redacted(trail)

    assert masked["headers"] == {"Authorization": REDACTED, "Set-Cookie": REDACTED}
    assert set(masked["body"][0].values()) == {REDACTED}
    assert (masked["errorCode"], masked["LastName"]) == ("INVALID_FIELD", "Kept")


def test_the_errors_page_masks_a_trail_that_slipped_a_secret_through():
    shown = pretty_trail({"request": {"password": "hunter2", "Company": "Acme"}})

    assert "hunter2" not in shown and "Acme" in shown
