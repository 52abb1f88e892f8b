"""Mapping editor feedback (issue 12): a refused save keeps every entry and opens on a "Not saved" banner that
links to each refused row; "Preview" posts the form as it stands, before the first save too, and writes nothing."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from portal.models import SalesforceIntegration
from tests.auth_flow import csrf_token
from tests.factories import login
from tests.integration_support import connected_world, editor_form, editor_post, question_id

BODY = re.compile(r'<pre data-role="composite-body">(.*?)</pre>', re.S)
BANNER = re.compile(r'<div class="notice notice-bad not-saved"[^>]*>(.*?)</div>', re.S)


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    return connected_world(factory, db_session, salesforce_emulator, salesforce_control)


def two_bad_rows(calendar) -> list[tuple]:
    return [
        ("LastName", f"question:{question_id(calendar, 'Name')}"),
        ("Email", f"question:{question_id(calendar, 'E-mail')}"),
        ("Company", f"question:{question_id(calendar, 'Company')}"),  # optional, no fallback
        ("LeadSource", "fixed", "Trade Show"),  # not a picklist value
        ("Title", "fixed", "Buyer"),
    ]


def test_a_refused_save_opens_on_a_banner_linking_each_refused_row_and_keeps_every_entry(client, db_session, world):
    login(client, world.owner)

    response = client.post(
        f"{world.editor_url}/new", data=editor_post(csrf_token(client), two_bad_rows(world.calendar))
    )
    page = response.get_data(as_text=True)
    banner = BANNER.search(page).group(1)
    form = editor_form(page)

    assert response.status_code == 422 and db_session.scalar(select(SalesforceIntegration)) is None
    assert "Not saved: 2 rows need attention." in banner
    assert re.findall(r'href="#(row-\d+)"', banner) == ["row-3", "row-4"]
    assert 'id="row-3"' in page and 'id="row-4"' in page
    assert page.index('id="not-saved"') < page.index('id="integration-form"')  # at the top
    assert [(form[f"rows-{i}-sf_field"], form[f"rows-{i}-fixed_value"]) for i in (3, 4)] == [
        ("LeadSource", "Trade Show"),
        ("Title", "Buyer"),
    ]


def test_the_banner_names_the_mapping_when_no_single_row_is_at_fault(client, world):
    login(client, world.owner)
    rows = two_bad_rows(world.calendar)[:2]

    page = client.post(f"{world.editor_url}/new", data=editor_post(csrf_token(client), rows)).get_data(as_text=True)

    banner = BANNER.search(page).group(1)
    assert "Not saved: the mapping needs attention." in banner and 'href="#mapping-problems"' in banner


def test_a_page_without_a_refused_save_has_no_banner(client, world):
    login(client, world.owner)

    assert 'id="not-saved"' not in client.get(f"{world.editor_url}/new").get_data(as_text=True)


def test_preview_before_the_first_save_shows_the_unsaved_mapping_and_writes_nothing(
    client, db_session, world, salesforce_control
):
    login(client, world.owner)
    rows = [*two_bad_rows(world.calendar)[:2], ("Company", "fixed", "Acme"), ("LeadSource", "fixed", "Web")]

    response = client.post(f"{world.editor_url}/preview", data=editor_post(csrf_token(client), rows, button="preview"))
    page = response.get_data(as_text=True)

    assert response.status_code == 200 and "the integration is not saved yet" in page
    lead = json.loads(html.unescape(BODY.findall(page)[0]))["compositeRequest"][0]
    assert lead["body"] == {
        "LastName": "Alex Sample",
        "Email": "alex.sample@example.com",
        "Company": "Acme",
        "LeadSource": "Web",
    }
    assert db_session.scalar(select(SalesforceIntegration)) is None
    assert not [entry for entry in salesforce_control.request_log() if entry["method"] != "GET"]


@pytest.mark.parametrize(
    "rows",
    [
        [("", "question:999999")],
        [("NoSuchField__c", "item:nothing")],
        [("LastName", "question:x"), ("LastName", "fixed", "")],
        [],
    ],
)
def test_preview_of_a_half_filled_form_explains_instead_of_failing(client, world, rows):
    login(client, world.owner)

    response = client.post(f"{world.editor_url}/preview", data=editor_post(csrf_token(client), rows))

    assert response.status_code == 200
