"""The one rule for which keys hold credentials, used when the client records an exchange and again when a page
shows a recorded trail (so a trail that slipped a secret through still does not show it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
# Keys whose values are credentials wherever they appear (OAuth fields, HTTP auth headers, cookies, passwords).
SECRET_KEY = re.compile(r"authorization|cookie|token|secret|password|signature|code_verifier|^code$", re.IGNORECASE)


def redacted(value: Any) -> Any:
    """A copy of a JSON-like value with every value under a secret key replaced by REDACTED."""
    if isinstance(value, Mapping):
        return {key: REDACTED if SECRET_KEY.search(str(key)) else redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value
