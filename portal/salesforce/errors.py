"""The only errors the Salesforce client and OAuth helpers raise: auth lost, a refused request, or
Salesforce unreachable (with whether a write may nevertheless have been committed)."""

from __future__ import annotations

from typing import Any


class SalesforceError(Exception):
    """Base class: every failure talking to Salesforce."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SalesforceAuthError(SalesforceError):
    """Salesforce no longer accepts the connection's grant (e.g. `invalid_grant`): a person must reconnect.

    `code` is the OAuth error (`invalid_grant`, `access_denied`, ...) or `not_connected` when the team has no
    usable connection."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class SalesforceRequestError(SalesforceError):
    """Salesforce answered and refused the request (4xx, or an OAuth error object outside `invalid_grant`).

    `errors` is the raw error array (REST errors are arrays of {message, errorCode, fields}); `code`,
    `message` and `fields` come from its first entry."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None, errors: Any = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = list(fields or [])
        self.errors = errors if errors is not None else []

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class SalesforceUnavailable(SalesforceError):
    """Salesforce could not be reached or failed (network error, timeout, 5xx, a page instead of JSON).

    `may_have_committed` is True when a write was sent and the answer was lost (timeout or dropped
    connection after sending): its outcome is unknown and a retry must look before writing again.
    `sent` is True when the request may have reached Salesforce before the connection failed; `read_failed` when
    the request that got no answer was a data read (nothing could have been written by it)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        may_have_committed: bool = False,
        sent: bool = False,
        read_failed: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.may_have_committed = may_have_committed
        self.sent = sent
        self.read_failed = read_failed

    def __str__(self) -> str:
        status = f"{self.status} " if self.status else ""
        return f"{status}{self.code + ': ' if self.code else ''}{self.message}"
