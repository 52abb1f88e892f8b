"""Marks English text the pure planner produces (the error catalogue, mapping source labels) for the translation
catalog. The planner knows no language: the pages and e-mails that show the text translate it with gettext."""


def N_(text: str) -> str:
    return text
