"""Salesforce record ids: 15 case-sensitive characters plus the 3-character case-safe suffix."""

import itertools
import re
import threading

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")

KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Lead": "00Q",
    "Event": "00U",
    "Organization": "00D",
}

# "5g" and "00000" mimic the pod/reserved characters of real ids so they look familiar in logs.
_POD = "5g"
_counter = itertools.count(1)
_counter_lock = threading.Lock()


def case_safe_suffix(id15: str) -> str:
    """Return the 3-character suffix Salesforce appends so an id survives case-insensitive systems."""
    suffix = ""
    for chunk_start in range(0, 15, 5):
        chunk = id15[chunk_start : chunk_start + 5]
        bits = sum(1 << position for position, char in enumerate(chunk) if char.isupper())
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, remainder = divmod(number, 62)
        digits = _BASE62[remainder] + digits
    return digits.rjust(width, "0")


def new_id(sobject: str) -> str:
    """Return a fresh 18-character id with the object's key prefix."""
    with _counter_lock:
        serial = next(_counter)
    id15 = KEY_PREFIXES[sobject] + _POD + "00000" + _base62(serial, 5)
    return id15 + case_safe_suffix(id15)


def is_well_formed(value: object) -> bool:
    """True when the value has the shape of a 15- or 18-character id."""
    return isinstance(value, str) and bool(_ID_PATTERN.match(value))


def to_18(value: str) -> str:
    """Normalise a 15-character id to its 18-character form."""
    return value if len(value) == 18 else value + case_safe_suffix(value)


def object_for_id(value: str) -> str | None:
    """Return the object name whose key prefix starts the id, if any."""
    for sobject, prefix in KEY_PREFIXES.items():
        if value.startswith(prefix):
            return sobject
    return None
