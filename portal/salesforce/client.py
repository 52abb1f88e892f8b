"""The one way the product calls Salesforce's REST API: a client built from a team's stored connection that
refreshes an expired session once and retries once, reports every HTTP exchange (redacted), counts calls, and
raises only the errors in portal.salesforce.errors. It knows HTTP, auth and REST, nothing about bookings."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..crypto import token_cipher
from ..extensions import db
from ..models import SalesforceConnection, utcnow
from .errors import SalesforceAuthError, SalesforceRequestError, SalesforceUnavailable
from .oauth import TOKEN_PATH
from .redaction import redacted
from .tokens import RECONNECT_ERRORS, ApiUsage, StoredTokens, TokenStore

log = logging.getLogger("portal.salesforce")

ExchangeCallback = Callable[[dict], None]

MAX_LOGGED_BODY_CHARS = 8000
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


@dataclass(frozen=True)
class ClientSettings:
    api_version: str
    timeout: float
    client_id: str
    client_secret: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ClientSettings:
        return cls(
            api_version=config["SALESFORCE_API_VERSION"],
            timeout=config["SALESFORCE_TIMEOUT_SECONDS"],
            client_id=config["SALESFORCE_CLIENT_ID"],
            client_secret=config["SALESFORCE_CLIENT_SECRET"],
        )


def client_for_connection(
    connection_id: int,
    *,
    session: Session | None = None,
    row: SalesforceConnection | None = None,
    on_exchange: ExchangeCallback | None = None,
) -> SalesforceClient:
    """A client for a stored connection (call inside an app context; close it, or use it as a context manager).

    `session` names the database to use (default `db.session`); the client reads and writes the connection row
    in short transactions of its own and never commits the caller's work. Raises SalesforceAuthError
    (`not_connected` / `needs_reconnect`) when the connection cannot be used.

    `row`: the connection's row as the caller just read it, which saves reading it again; if another process has
    renewed the tokens since, the first call's 401 makes the client adopt them (TokenStore.refresh)."""
    store = TokenStore((session or db.session).get_bind(), token_cipher())
    settings = ClientSettings.from_config(current_app.config)
    tokens = store.tokens_of(row) if row is not None else store.load(connection_id)
    return SalesforceClient(tokens, store=store, settings=settings, on_exchange=on_exchange)


class SalesforceClient:
    """REST calls on one connection's `instance_url`. Not shared between threads; one per job or request.

    `api_calls` counts the requests Salesforce counts against the org's daily limit: every request sent to the
    instance (a Composite request is one), its answer lost included, except one answered 401 (Salesforce counts
    only calls it authenticated against the org); each exchange reported says whether it was one (`api_call`);
    `refreshes` counts access-token renewals (its own refresh, or a token another process had just stored);
    `api_usage` is the last `Sforce-Limit-Info` seen (or the stored one), persisted on `close()`."""

    def __init__(
        self,
        tokens: StoredTokens,
        *,
        store: TokenStore,
        settings: ClientSettings,
        on_exchange: ExchangeCallback | None = None,
    ) -> None:
        self._tokens = tokens
        self._store = store
        self._settings = settings
        self._on_exchange = on_exchange
        self._http = OAuth2Session(settings.client_id, token=_bearer(tokens.access_token))
        self._http.trust_env = False  # read once per process instead (_environment)
        for prefix in ("https://", "http://"):
            self._http.mount(prefix, _CONNECTIONS.adapter)
        self.api_calls = 0
        self.refreshes = 0
        self.api_usage: ApiUsage | None = tokens.api_usage
        self._usage_unsaved = False

    # -- identity of the connection ------------------------------------------------------------

    @property
    def connection_id(self) -> int:
        return self._tokens.connection_id

    @property
    def team_id(self) -> int:
        return self._tokens.team_id

    @property
    def instance_url(self) -> str:
        return self._tokens.instance_url

    # -- REST resources ----------------------------------------------------------------------

    def query(self, soql: str) -> dict:
        """Run a SOQL query (`q` is URL-encoded here); returns {totalSize, done, records[, nextRecordsUrl]}."""
        return self.request("GET", "query", params={"q": soql})

    def describe(self, object_name: str) -> dict:
        return self.request("GET", f"sobjects/{_name(object_name)}/describe")

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        writes: bool | None = None,
    ) -> Any:
        """Call the REST API: `path` is relative to /services/data/vXX.X/ or absolute (/services/...).

        `writes` says whether the request may change data; by default its method says (a Composite request of
        queries is a POST that writes nothing). A lost answer to a write leaves its outcome unknown; to a read, it
        is a failed read. Returns the parsed JSON body (None for 204). On 401 INVALID_SESSION_ID refreshes once and
        retries once."""
        method = method.upper()
        writes = method in WRITE_METHODS if writes is None else writes
        send = dict(json=json, params=params, headers=headers, writes=writes)
        response = self._instance_exchange(method, path, **send)
        if _session_expired(response):
            self._refresh()
            response = self._instance_exchange(method, path, **send)
        return _result(response, writes)

    # -- lifecycle ---------------------------------------------------------------------------

    def take_api_usage(self) -> ApiUsage | None:
        """The API usage seen and not stored yet, for a caller that stores it in its own transaction (close() then
        leaves it alone)."""
        if not self._usage_unsaved:
            return None
        self._usage_unsaved = False
        return self.api_usage

    def close(self) -> None:
        """Persist the last API usage seen (one small transaction) and release the HTTP session."""
        if self._usage_unsaved and self.api_usage is not None:
            try:
                self._store.record_api_usage(self.connection_id, self.api_usage)
                self._usage_unsaved = False
            except SQLAlchemyError:  # usage is advisory: never let it hide the caller's own outcome
                log.warning("could not store salesforce api usage", extra={"team_id": self.team_id}, exc_info=True)
        self._http.close()

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _instance_exchange(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self._tokens.instance_url + (path if path.startswith("/services/") else self._data_path(path))
        response = self._exchange(method, url, target="instance", **kwargs)
        self._note_usage(response)
        return response

    def _data_path(self, relative: str) -> str:
        """`sobjects/Lead` -> `/services/data/v62.0/sobjects/Lead`."""
        return f"/services/data/v{self._settings.api_version}/{relative.lstrip('/')}"

    def _refresh(self) -> None:
        self._tokens = self._store.refresh(self._tokens, self._fetch_refreshed_token)
        self._http.token = _bearer(self._tokens.access_token)
        self.refreshes += 1

    def _fetch_refreshed_token(self, login_url: str, refresh_token: str) -> dict:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self._settings.client_id,
            "client_secret": self._settings.client_secret,
        }
        response = self._exchange("POST", login_url + TOKEN_PATH, target="login", data=form, withhold_token=True)
        body = _json_or_none(response)
        body = body if isinstance(body, dict) else {}
        if response.status_code == 200 and body.get("access_token"):
            return body
        error, description = str(body.get("error", "")), str(body.get("error_description", ""))
        if error in RECONNECT_ERRORS:
            raise SalesforceAuthError(error, description)
        if error and response.status_code < 500 and error != "rate_limit_exceeded":
            raise SalesforceRequestError(response.status_code, error, description, errors=[body])
        raise SalesforceUnavailable("the token endpoint failed", status=response.status_code, code=error)

    def _exchange(
        self, method: str, url: str, *, target: str, writes: bool = False, withhold_token: bool = False, **kwargs: Any
    ) -> requests.Response:
        started = time.monotonic()
        try:
            response = self._http.request(
                method,
                url,
                **_environment(_origin(url)),
                timeout=self._settings.timeout,
                allow_redirects=False,
                withhold_token=withhold_token,
                **kwargs,
            )
        except requests.RequestException as failure:
            lost = _unavailable(failure, writes=writes, reading=target == "instance" and not writes)
            counted = self._count(target, lost.sent)
            self._report(method, url, target, kwargs, started, None, counted, error=f"{type(failure).__name__}")
            raise lost from None
        counted = self._count(target, response.status_code != 401)
        self._report(method, url, target, kwargs, started, response, counted)
        return response

    def _count(self, target: str, counts: bool) -> bool:
        """Whether an exchange is an API call (only requests to the instance are), counted as it is made."""
        counted = target == "instance" and counts
        self.api_calls += counted
        return counted

    def _note_usage(self, response: requests.Response) -> None:
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage = ApiUsage(int(match[1]), int(match[2]), utcnow())
            self._usage_unsaved = True

    def _report(
        self,
        method: str,
        url: str,
        target: str,
        sent: Mapping[str, Any],
        started: float,
        response: requests.Response | None,
        api_call: bool,
        *,
        error: str | None = None,
    ) -> None:
        if self._on_exchange is None:
            return
        prepared = response.request if response is not None else None
        parts = urlsplit(prepared.url if prepared is not None else url)
        self._on_exchange(
            {
                "method": method,
                "target": target,
                "path": parts.path + (f"?{parts.query}" if parts.query else ""),
                "request": redacted(sent.get("json") if sent.get("json") is not None else sent.get("data")),
                "status": response.status_code if response is not None else None,
                "response": _response_for_trail(response) if response is not None else None,
                "duration_ms": round((time.monotonic() - started) * 1000),
                "api_call": api_call,
                "error": error,
            }
        )


# -- module helpers ----------------------------------------------------------------------------


class _KeptAdapter(requests.adapters.HTTPAdapter):
    """HTTP connections kept by the process from one client to the next (a client lives one job or request):
    closing a client leaves them open for the next, as a keep-alive pool does."""

    def close(self) -> None:
        pass


class _Connections:
    def __init__(self) -> None:
        self.adapter = _KeptAdapter()

    def renew(self) -> None:
        """A forked child must not share its parent's sockets."""
        self.adapter = _KeptAdapter()


_CONNECTIONS = _Connections()
os.register_at_fork(after_in_child=_CONNECTIONS.renew)


@functools.lru_cache(maxsize=64)
def _environment(origin: str) -> dict:
    """The proxies and CA bundle the environment gives a site (requests' trust_env), read once per process and
    site: requests would scan the whole environment on every call."""
    with requests.Session() as session:
        found = session.merge_environment_settings(origin, {}, None, None, None)
    return {"proxies": found["proxies"], "verify": found["verify"], "cert": found["cert"]}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _bearer(access_token: str) -> dict:
    return {"access_token": access_token, "token_type": "Bearer"}


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"not a Salesforce API name: {value!r}")
    return value


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _session_expired(response: requests.Response) -> bool:
    if response.status_code != 401:
        return False
    body = _json_or_none(response)
    return isinstance(body, list) and any(
        isinstance(item, dict) and item.get("errorCode") == "INVALID_SESSION_ID" for item in body
    )


def _result(response: requests.Response, written: bool) -> Any:
    """The parsed body of a successful response, or the matching error."""
    status = response.status_code
    if status == 204:
        return None
    body = _json_or_none(response)
    if 200 <= status < 300:
        if body is None:
            raise SalesforceUnavailable("Salesforce answered without JSON", status=status, may_have_committed=written)
        return body
    errors = body if isinstance(body, list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code, message = str(first.get("errorCode", "")), str(first.get("message", "") or response.reason or "")
    if status >= 500:
        # A gateway timeout may hide a write the org committed; the org's own 500/503 roll back.
        unknown = written and status in (502, 504)
        raise SalesforceUnavailable(
            message or "Salesforce failed", status=status, code=code, may_have_committed=unknown
        )
    if status == 300:
        raise SalesforceRequestError(status, "MULTIPLE_CHOICES", "several records matched", errors=body)
    if status < 400:
        raise SalesforceUnavailable(f"unexpected redirect ({status})", status=status)
    raise SalesforceRequestError(status, code, message, first.get("fields") or [], errors=body if errors else [])


def _unavailable(failure: requests.RequestException, *, writes: bool, reading: bool) -> SalesforceUnavailable:
    """A network failure: a write that may have reached Salesforce before it happened has an unknown outcome; a
    data read (`reading`) that failed this way changed nothing."""
    sent = _may_have_been_sent(failure)
    kind = "timed out" if isinstance(failure, requests.Timeout) else "could not be reached"
    return SalesforceUnavailable(
        f"Salesforce {kind} ({type(failure).__name__})",
        may_have_committed=sent and writes,
        sent=sent,
        read_failed=reading,
    )


def _may_have_been_sent(failure: requests.RequestException) -> bool:
    if isinstance(failure, requests.ConnectTimeout):
        return False
    reason = failure.args[0] if failure.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return not isinstance(reason, urllib3.exceptions.ConnectTimeoutError)  # includes refused / unresolvable


def _response_for_trail(response: requests.Response) -> Any:
    body = _json_or_none(response)
    if body is None:
        return _truncated(response.text)
    masked = redacted(body)
    text = json.dumps(masked, ensure_ascii=False)
    return masked if len(text) <= MAX_LOGGED_BODY_CHARS else _truncated(text)


def _truncated(text: str) -> str:
    if len(text) <= MAX_LOGGED_BODY_CHARS:
        return text
    return text[:MAX_LOGGED_BODY_CHARS] + f"… [{len(text) - MAX_LOGGED_BODY_CHARS} more characters]"
