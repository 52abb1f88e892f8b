"""Python client for the identity emulator's test controls and for completing its account page without a browser."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

TIMEOUT_SECONDS = 10


class EmulatorControlError(RuntimeError):
    """The emulator refused a control request or did not show the page the client expected."""


class IdentityControl:
    """Talks to one running emulator at `base_url` over HTTP."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()

    def reset(self) -> None:
        """Forget issued codes and tokens and queued faults (signing keys stay)."""
        self._control("post", "/__emulator__/reset")

    def inject_fault(self, provider: str, fault: str) -> None:
        """The next id_token `provider` ("google" or "microsoft") issues gets `fault`; faults queue in order."""
        self._control("post", "/__emulator__/faults", json={"provider": provider, "fault": fault})

    def pending_faults(self) -> dict[str, list[str]]:
        return self._control("get", "/__emulator__/faults")

    def sign_in(
        self,
        authorize_url: str,
        *,
        email: str,
        name: str,
        given_name: str = "",
        family_name: str = "",
        email_verified: bool = True,
        tenant_id: str | None = None,
        subject: str = "",
        session: requests.Session | None = None,
    ) -> str:
        """Open the account page for `authorize_url`, submit the account, return the client's callback URL.

        `given_name` and `family_name` matter for Google only (`email_verified` is Google's claim and Microsoft's
        optional `xms_edov`), `tenant_id` for
        Microsoft only (None keeps the page's default).
        """
        fields = {"email": email, "name": name, "subject": subject}
        if given_name:
            fields["given_name"] = given_name
        if family_name:
            fields["family_name"] = family_name
        if tenant_id is not None:
            fields["tenant_id"] = tenant_id
        return self._submit_account_page(authorize_url, fields, email_verified, session)

    def cancel_sign_in(self, authorize_url: str, session: requests.Session | None = None) -> str:
        """Press Cancel on the account page; returns the callback URL carrying error=access_denied."""
        return self._submit_account_page(authorize_url, {"action": "cancel"}, True, session)

    def _submit_account_page(
        self, authorize_url: str, fields: dict[str, str], email_verified: bool, session: requests.Session | None
    ) -> str:
        http = session or self.session
        page = http.get(authorize_url, allow_redirects=False, timeout=TIMEOUT_SECONDS)
        form = AccountPageForm.parse(page.text) if page.status_code == 200 else None
        if form is None:
            raise EmulatorControlError(f"expected the account page, got HTTP {page.status_code}: {page.text[:300]}")
        data = {**form.fields, "action": "continue", **fields}
        if not email_verified:
            data.pop("email_verified", None)
        response = http.post(urljoin(page.url, form.action), data=data, allow_redirects=False, timeout=TIMEOUT_SECONDS)
        if response.status_code not in (302, 303):
            raise EmulatorControlError(f"the account page refused the account: HTTP {response.status_code}")
        return response.headers["Location"]

    def _control(self, method: str, path: str, **kwargs: object) -> dict:
        response = self.session.request(method, self.base_url + path, timeout=TIMEOUT_SECONDS, **kwargs)
        if not response.ok:
            raise EmulatorControlError(f"{method.upper()} {path}: HTTP {response.status_code} {response.text}")
        return response.json()


class AccountPageForm(HTMLParser):
    """The account page's form: its action and the values of its inputs (a checked checkbox included)."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self._found = False

    @classmethod
    def parse(cls, html: str) -> AccountPageForm | None:
        parser = cls()
        parser.feed(html)
        return parser if parser._found else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and not self._found:
            self._found = True
            self.action = attributes.get("action", "")
        elif tag == "input" and self._found and "name" in attributes:
            if attributes.get("type") == "checkbox" and "checked" not in attributes:
                return
            self.fields[attributes["name"]] = attributes.get("value", "")
