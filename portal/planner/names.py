"""A guest's name as people read it: the full name as typed, or given and family names in the order the name's
own culture writes them (Japanese, Chinese and Korean names family first: 山田 太郎). Never split, never guessed."""

from __future__ import annotations

import unicodedata

# Scripts whose names are written family name first.
_FAMILY_FIRST_SCRIPTS = ("CJK UNIFIED IDEOGRAPH", "HIRAGANA", "KATAKANA", "HANGUL")


def writes_family_first(text: str) -> bool:
    return any(unicodedata.name(char, "").startswith(_FAMILY_FIRST_SCRIPTS) for char in text)


def display_name(full: str, family: str, given: str) -> str:
    """The full name when there is one, else given and family names in their culture's order."""
    if full.strip():
        return full.strip()
    family, given = family.strip(), given.strip()
    parts = (family, given) if writes_family_first(family + given) else (given, family)
    return " ".join(part for part in parts if part)
