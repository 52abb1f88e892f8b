"""Marks English text the pure planner produces (the error catalogue, mapping source labels) for the translation
catalog. The planner knows no language: the pages and e-mails that show the text translate it with gettext."""

from __future__ import annotations


def N_(text: str) -> str:
    return text


class Said(str):
    """English text the planner made from a marked message and named values (themselves text or Said), kept with
    them so a page can show it in the viewer's language (portal.i18n.translated) while logs and tests read the
    English."""

    message: str
    values: dict[str, object]

    def __new__(cls, message: str, **values: object) -> Said:
        text = super().__new__(cls, message % values if values else message)
        text.message, text.values = message, values
        return text

    def lowered(self) -> Said:
        """The same words starting in lower case in English (mid-sentence); other languages translate the message."""
        text = str.__new__(Said, self[:1].lower() + self[1:])
        text.message, text.values = self.message, self.values
        return text
