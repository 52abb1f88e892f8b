"""Python client for the emulator's control API, so tests and the demo never hand-write its URLs."""

from typing import Any

import requests


class EmulatorControlError(RuntimeError):
    pass


class EmulatorControl:
    """Talks to ``<listener base URL>/__emulator__``; any listener's base URL works."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        base = base_url.rstrip("/")
        self.base_url = base if base.endswith("/__emulator__") else base + "/__emulator__"
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs) -> Any:
        response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise EmulatorControlError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    # -- state -------------------------------------------------------------------------------

    def summary(self) -> dict:
        """{"org_id", "urls": {listener: url}, "admin_user_id"}."""
        return self._call("GET", "/")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def seed_record(self, sobject: str, **fields: Any) -> str:
        """Store a record without running the org's rules (read-only fields allowed); returns its id."""
        return self._call("POST", "/records", json={"object": sobject, "fields": fields})["id"]

    def get_record(self, record_id: str) -> dict | None:
        """All stored fields of a record, deleted ones included; None when unknown."""
        response = self.session.get(f"{self.base_url}/records/{record_id}", timeout=self.timeout)
        return response.json()["fields"] if response.status_code == 200 else None

    def records(self, sobject: str) -> list[dict]:
        """Every stored record of one object, deleted ones included (check IsDeleted)."""
        return self._call("GET", "/records.json", params={"object": sobject})[sobject]

    def add_user(self, username: str, password: str | None = None, **fields: Any) -> str:
        """Create a User (email, first_name, last_name, time_zone, active); with a password it can log in."""
        return self._call("POST", "/users", json={"username": username, "password": password, **fields})["id"]

    def convert_lead(self, lead_id: str) -> str:
        """Convert the Lead as Salesforce does; returns the new Contact's id."""
        return self._call("POST", f"/leads/{lead_id}/convert")["contactId"]

    def delete_record(self, record_id: str) -> None:
        """Delete a record as a Salesforce user would (to the Recycle Bin)."""
        self._call("DELETE", f"/records/{record_id}")

    def merge_records(self, master_id: str, *victim_ids: str) -> None:
        """Merge one or two records into the master as Salesforce does (victims deleted, their Events moved)."""
        self._call("POST", f"/records/{master_id}/merge", json={"victims": list(victim_ids)})

    # -- apps, tokens, settings --------------------------------------------------------------

    def register_app(
        self, client_id: str, client_secret: str, callback_urls: list[str], scopes: list[str] | None = None
    ) -> dict:
        body = {"client_id": client_id, "client_secret": client_secret, "callback_urls": callback_urls}
        if scopes is not None:
            body["scopes"] = scopes
        return self._call("POST", "/apps", json=body)

    def issue_tokens(
        self,
        username: str | None = None,
        client_id: str = "emulator-client-id",
        scope: str = "api id refresh_token",
        listener: str = "production",
    ) -> dict:
        """A token response as the code grant would give it, without the browser flow."""
        body = {"client_id": client_id, "scope": scope, "listener": listener}
        if username is not None:
            body["username"] = username
        return self._call("POST", "/tokens", json=body)

    def revoke_all_tokens(self) -> None:
        self._call("POST", "/tokens/revoke-all")

    def expire_access_tokens(self) -> None:
        self._call("POST", "/tokens/expire-access")

    def settings(self) -> dict:
        return self._call("GET", "/settings")

    def update_settings(self, **settings: Any) -> dict:
        """Change settings (see docs/emulators.md); returns all of them."""
        return self._call("PATCH", "/settings", json=settings)

    # -- faults, log, usage ------------------------------------------------------------------

    def add_fault(
        self,
        fault: str,
        path: str | None = None,
        method: str | None = None,
        count: int | None = None,
        rate: float = 1.0,
    ) -> list[dict]:
        """Make matching requests fail: the next ``count`` of them, or a ``rate`` share; returns all rules."""
        body = {"fault": fault, "path": path, "method": method, "count": count, "rate": rate}
        return self._call("POST", "/faults", json=body)

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def request_log(self, since: int = 0) -> list[dict]:
        """Entries: seq, time, method, path, query, listener, host, body, status, api_call, fault."""
        return self._call("GET", "/log", params={"since": since})["entries"]

    def clear_log(self) -> None:
        self._call("DELETE", "/log")

    def api_calls(self) -> int:
        return self._call("GET", "/usage")["api_calls"]

    def set_api_calls(self, calls: int) -> None:
        """Pretend the org already used this many calls today (to reach the daily limit quickly)."""
        self._call("PUT", "/usage", json={"api_calls": calls})
