"""The in-memory org: records, users, connected apps, tokens, settings, faults and the request log.

Every listener thread shares one ``Org``; callers hold ``org.lock`` while they read or change it.
"""

import copy
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from emulators.salesforce import ids
from emulators.salesforce.metadata import (
    STANDARD_FIELDS,
    Field,
    apply_permission,
    custom_field_from_spec,
)

DEFAULT_CLIENT_ID = "emulator-client-id"
DEFAULT_CLIENT_SECRET = "emulator-client-secret"
DEFAULT_USERNAME = "admin@example-org.test"
DEFAULT_PASSWORD = "emulator"
DEFAULT_APP_SCOPES = ("api", "id", "refresh_token", "openid", "web", "full", "offline_access")

DEFAULT_SETTINGS = {
    "access_token_ttl_seconds": 7200,  # a common org session timeout (2 hours)
    "access_token_max_calls": None,
    "refresh_token_rotation": False,
    "authorization_code_ttl_seconds": 900,  # Salesforce codes live 15 minutes
    "latency_ms": 0,
    "daily_api_limit": 15000,
    "query_batch_size": 2000,
    "api_enabled": True,
    "duplicate_rules": {},  # object -> "off" | "alert" | "block"
    "validation_rules": [],
    "field_permissions": {},  # "Lead.Company" -> {"readable", "createable", "updateable"}
    "custom_fields": [],  # [{"object": "Lead", "name": "Foo__c", "type": "string", ...}]
}


def now() -> datetime:
    return datetime.now(UTC)


def sf_datetime(moment: datetime) -> str:
    """Format a moment the way the REST API does: 2024-01-02T15:41:15.000+0000."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class ConnectedApp:
    client_id: str
    client_secret: str
    callback_urls: list[str]
    scopes: tuple[str, ...] = DEFAULT_APP_SCOPES
    # The default app accepts any loopback callback so the demo and tests can use any port.
    any_loopback_callback: bool = False


@dataclass
class LoginUser:
    username: str
    password: str
    user_id: str


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: list[str]
    login_listener: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    user_id: str
    scopes: list[str]
    login_listener: str
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    user_id: str
    scopes: list[str]
    login_listener: str
    issued_at: float
    refresh_token: str | None
    calls: int = 0
    revoked: bool = False
    expired: bool = False


@dataclass
class LogEntry:
    seq: int
    time: str
    method: str
    path: str
    query: str
    listener: str
    host: str
    body: str
    status: int | None = None
    api_call: bool = False
    fault: str | None = None


@dataclass
class Org:
    """All mutable state of one emulated org."""

    org_id: str = field(default_factory=lambda: ids.new_id("Organization"))
    lock: threading.RLock = field(default_factory=threading.RLock)
    urls: dict[str, str] = field(default_factory=dict)  # listener name -> base URL

    def __post_init__(self) -> None:
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything and recreate the default admin user and connected app."""
        with self.lock:
            self.records: dict[str, dict[str, dict]] = {name: {} for name in STANDARD_FIELDS}
            self.settings: dict = copy.deepcopy(DEFAULT_SETTINGS)
            self.apps: dict[str, ConnectedApp] = {}
            self.logins: dict[str, LoginUser] = {}
            self.codes: dict[str, AuthorizationCode] = {}
            self.refresh_tokens: dict[str, RefreshToken] = {}
            self.access_tokens: dict[str, AccessToken] = {}
            self.pending_logins: dict[str, dict] = {}
            self.faults: list[dict] = []
            self.cursors: dict[str, tuple[list[dict], int]] = {}
            self.log: list[LogEntry] = []
            self.log_seq = 0
            self.api_calls = 0
            self.random = random.Random(20240101)  # rate-based faults repeat run after run
            self.admin_user_id: str | None = None
            self.register_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, [], any_loopback_callback=True)
            self.admin_user_id = self.add_user(
                DEFAULT_USERNAME, DEFAULT_PASSWORD, email=DEFAULT_USERNAME, first_name="Org", last_name="Admin"
            )

    # -- users and apps ----------------------------------------------------------------------

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        callback_urls: list[str],
        scopes: tuple[str, ...] = DEFAULT_APP_SCOPES,
        any_loopback_callback: bool = False,
    ) -> ConnectedApp:
        with self.lock:
            app = ConnectedApp(client_id, client_secret, list(callback_urls), tuple(scopes), any_loopback_callback)
            self.apps[client_id] = app
            return app

    def add_user(
        self,
        username: str,
        password: str | None = None,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str = "User",
        time_zone: str = "GMT",
        active: bool = True,
    ) -> str:
        """Create a User record; with a password it can also log in on the authorize page."""
        with self.lock:
            user_id = self.insert_record(
                "User",
                {
                    "Username": username,
                    "FirstName": first_name,
                    "LastName": last_name,
                    "Email": email or username,
                    "Alias": (first_name or "")[:1].lower() + last_name[:4].lower(),
                    "IsActive": active,
                    "TimeZoneSidKey": time_zone,
                    "UserType": "Standard",
                },
            )
            if password is not None:
                self.logins[username.lower()] = LoginUser(username, password, user_id)
            return user_id

    # -- metadata ----------------------------------------------------------------------------

    def fields(self, sobject: str) -> list[Field]:
        """The object's fields with custom fields added and field-level permissions applied."""
        custom = [
            custom_field_from_spec(spec) for spec in self.settings["custom_fields"] if spec.get("object") == sobject
        ]
        permissions = self.settings["field_permissions"]
        return [
            apply_permission(f, permissions[f"{sobject}.{f.name}"]) if f"{sobject}.{f.name}" in permissions else f
            for f in [*STANDARD_FIELDS[sobject], *custom]
        ]

    def field_map(self, sobject: str) -> dict[str, Field]:
        """Fields keyed by lower-case name: API names are case-insensitive."""
        return {f.name.lower(): f for f in self.fields(sobject)}

    # -- records -----------------------------------------------------------------------------

    def insert_record(self, sobject: str, values: dict) -> str:
        """Store a new record with system fields and defaults filled in; no rules are checked."""
        record_id = ids.new_id(sobject)
        creator = self.admin_user_id or record_id  # the first user creates itself
        stamp = sf_datetime(now())
        record = {f.name: f.default_value for f in self.fields(sobject)}
        record.update(
            {
                "Id": record_id,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "CreatedById": creator,
                "LastModifiedDate": stamp,
                "LastModifiedById": creator,
                "SystemModstamp": stamp,
            }
        )
        if "OwnerId" in record:
            record["OwnerId"] = creator
        if sobject == "Lead":
            record["IsConverted"] = False
        record.update(values)
        _refresh_name(sobject, record)
        self.records[sobject][record_id] = record
        return record_id

    def update_record(self, sobject: str, record_id: str, values: dict) -> None:
        record = self.records[sobject][record_id]
        record.update(values)
        stamp = sf_datetime(now())
        record["LastModifiedDate"] = stamp
        record["SystemModstamp"] = stamp
        _refresh_name(sobject, record)

    def find_record(self, record_id: str) -> tuple[str, dict] | None:
        """Return (object, record) for an id in 15- or 18-character form, deleted ones included."""
        if not ids.is_well_formed(record_id):
            return None
        sobject = ids.object_for_id(record_id)
        if sobject is None or sobject not in self.records:
            return None
        full = ids.to_18(record_id)
        record = self.records[sobject].get(full)
        return (sobject, record) if record is not None else None

    def snapshot(self) -> dict:
        return copy.deepcopy(self.records)

    def restore(self, snapshot: dict) -> None:
        self.records = snapshot

    def convert_lead(self, lead_id: str) -> dict:
        """Convert a Lead as Salesforce's lead conversion does: new Account and Contact, Lead marked."""
        found = self.find_record(lead_id)
        if found is None or found[0] != "Lead" or found[1]["IsDeleted"]:
            raise KeyError(lead_id)
        lead = found[1]
        if lead["IsConverted"]:
            raise ValueError("lead already converted")
        account_id = self.insert_record("Account", {"Name": lead.get("Company") or lead["LastName"]})
        copied = ("FirstName", "LastName", "Salutation", "Email", "Phone", "MobilePhone", "Title", "LeadSource")
        contact_id = self.insert_record(
            "Contact", {"AccountId": account_id, **{name: lead.get(name) for name in copied}}
        )
        self.update_record(
            "Lead",
            lead["Id"],
            {
                "IsConverted": True,
                "ConvertedContactId": contact_id,
                "ConvertedAccountId": account_id,
                "ConvertedDate": now().date().isoformat(),
                "Status": "Closed - Converted",
            },
        )
        return {"contactId": contact_id, "accountId": account_id}

    def delete_record(self, record_id: str) -> None:
        """Delete as Salesforce does: the record goes to the Recycle Bin (IsDeleted); its id answers ENTITY_IS_DELETED."""
        found = self.find_record(record_id)
        if found is None or found[1]["IsDeleted"] or found[0] == "User":
            raise KeyError(record_id)
        self.update_record(found[0], found[1]["Id"], {"IsDeleted": True})

    def merge_records(self, master_id: str, victim_ids: list[str]) -> None:
        """Merge up to two records into a master of the same object (Lead, Contact or Account), as Salesforce's
        merge does: the victims are deleted with MasterRecordId set, their Events move to the master."""
        master = self.find_record(master_id)
        if master is None or master[1]["IsDeleted"] or master[0] not in {"Lead", "Contact", "Account"}:
            raise KeyError(master_id)
        sobject = master[0]
        victims = [self.find_record(victim_id) for victim_id in victim_ids]
        if not 1 <= len(victims) <= 2 or any(v is None or v[0] != sobject or v[1]["IsDeleted"] for v in victims):
            raise ValueError("merge one or two live records of the master's object")
        if any(record.get("IsConverted") for _, record in [master, *victims]):
            raise ValueError("converted leads cannot be merged")
        for _, victim in victims:
            for event in self.records["Event"].values():
                if event.get("WhoId") == victim["Id"]:
                    self.update_record("Event", event["Id"], {"WhoId": master[1]["Id"]})
            self.update_record(sobject, victim["Id"], {"IsDeleted": True, "MasterRecordId": master[1]["Id"]})

    # -- tokens ------------------------------------------------------------------------------

    def issue_access_token(
        self, client_id: str, user_id: str, scopes: list[str], listener: str, refresh: str | None
    ) -> AccessToken:
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        issued = AccessToken(token, client_id, user_id, scopes, listener, time.time(), refresh)
        self.access_tokens[token] = issued
        return issued

    def issue_refresh_token(self, client_id: str, user_id: str, scopes: list[str], listener: str) -> RefreshToken:
        token = "5Aep861" + secrets.token_urlsafe(64)
        issued = RefreshToken(token, client_id, user_id, scopes, listener)
        self.refresh_tokens[token] = issued
        return issued

    def access_token_is_live(self, token: AccessToken) -> bool:
        """Revoked, expired by the control API, by age or by number of calls: all the same to clients."""
        if token.revoked or token.expired:
            return False
        ttl = self.settings["access_token_ttl_seconds"]
        if ttl is not None and time.time() - token.issued_at >= ttl:
            return False
        max_calls = self.settings["access_token_max_calls"]
        return max_calls is None or token.calls < max_calls

    def revoke_refresh_token(self, token: RefreshToken) -> None:
        token.revoked = True
        for access in self.access_tokens.values():
            if access.refresh_token == token.token:
                access.revoked = True

    def revoke_all_tokens(self) -> None:
        for refresh in self.refresh_tokens.values():
            refresh.revoked = True
        for access in self.access_tokens.values():
            access.revoked = True

    def expire_access_tokens(self) -> None:
        for access in self.access_tokens.values():
            access.expired = True

    # -- request log -------------------------------------------------------------------------

    def start_log_entry(self, method: str, path: str, query: str, listener: str, host: str, body: str) -> LogEntry:
        with self.lock:
            self.log_seq += 1
            entry = LogEntry(self.log_seq, sf_datetime(now()), method, path, query, listener, host, body)
            self.log.append(entry)
            return entry


def _refresh_name(sobject: str, record: dict) -> None:
    """Keep the compound Name field in step with FirstName/LastName, as Salesforce does."""
    if sobject in {"Lead", "Contact", "User"}:
        parts = [record.get("FirstName"), record.get("LastName")]
        record["Name"] = " ".join(part for part in parts if part)
