"""The translation catalogs (issue 15): every message the code and templates mark is in each language's catalog,
translated, not fuzzy, with the same placeholders; and no user-facing date is formatted by hand.

The messages are extracted afresh with pybabel (babel.cfg), so a string added anywhere without a translation fails
here; README "Adding a language" says how to add one."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.i18n import format_moment, format_range, in_language
from portal.sync.states import action_words

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
LANGUAGES = sorted(path.name for path in TRANSLATIONS.iterdir() if (path / "LC_MESSAGES" / "messages.po").exists())
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, object]:
    """Every msgid pybabel extracts now, with its message."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "N_",
         "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    with pot.open("rb") as handle:
        return {message.id: message for message in read_po(handle) if message.id}


def catalog(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def test_japanese_is_one_of_the_catalogs():
    assert "ja" in LANGUAGES


def test_the_extraction_finds_the_marked_messages(extracted):
    # A few from each kind of source, so a broken babel.cfg cannot pass the tests below with nothing to check.
    for msgid in ("Confirm booking", "Your booking is confirmed.", "Salesforce refused the request.", "Family name"):
        assert msgid in extracted
    assert len(extracted) > 500


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_not_fuzzy_and_keeps_its_placeholders(extracted, language):
    translations = catalog(language)
    problems = []
    for msgid in extracted:
        message = translations.get(msgid)
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        if message is None:
            problems.append(f"missing: {key!r}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {key!r}")
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"untranslated: {key!r}")
            continue
        originals = msgid if isinstance(msgid, tuple) else (msgid,)
        expected = set().union(*(PLACEHOLDER.findall(text) for text in originals)) - {"num"}
        for text in strings:
            if set(PLACEHOLDER.findall(text)) - {"num"} != expected:
                problems.append(f"placeholders differ: {key!r} -> {text!r}")
            if text.count("%") != len(PLACEHOLDER.findall(text)) + 2 * text.count("%%"):
                problems.append(f"stray %: {text!r}")
    assert not problems, f"{language}: {len(problems)} problems; run scripts/translations update, then translate:\n" + (
        "\n".join(problems)
    )


# strftime/strptime-style patterns and f-string date formats, in code and templates that produce what people read.
HAND_MADE = re.compile(r"strftime\(|:%[aAbBdHIMmpYy]|%[aAbBHIMY][ ,:/\-]|\{[^}]*:%[A-Za-z]")
# Machine formats (not read by people): the slot value in URLs and forms, the JSON log timestamp, the editor's
# availability text the person types back in (09:00-12:00), and the planner's values for Salesforce.
ALLOWED = {
    ("portal/calendars/forms.py", 'return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")'),
    ("portal/logs.py", '"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),'),
    ("portal/calendars/editor.py", 'f"{r.start_time:%H:%M}-{r.end_time:%H:%M}" for r in calendar.availability if r.weekday == field.weekday'),
}  # fmt: skip


def test_no_date_shown_to_people_is_formatted_by_hand():
    """Dates and times people read go through portal.i18n (Babel's locale formats); the planner (what Salesforce
    receives) is exempt: it must not change with anyone's language."""
    found = []
    sources = [*ROOT.glob("portal/**/*.py"), *ROOT.glob("templates/**/*.html"), *ROOT.glob("templates/**/*.txt")]
    for path in sources:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("portal/planner/", "portal/salesforce/")):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if HAND_MADE.search(line) and (relative, line.strip()) not in ALLOWED:
                found.append(f"{relative}: {line.strip()}")
    assert not found, "format these with portal.i18n (format_moment, format_range, format_day…):\n" + "\n".join(found)


def test_a_moment_shows_the_day_and_time_of_its_own_time_zone_in_babels_japanese_format(app):
    start = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # already Thursday the 3rd in Tokyo
    with app.test_request_context(), in_language("ja"):
        assert format_moment(start, "Asia/Tokyo") == "2026年12月3日(木) 1:00 (Asia/Tokyo)"
        assert (
            format_range(start, start.replace(hour=17), "Asia/Tokyo", show_zone=False) == "2026年12月3日(木) 1:00–2:00"
        )
    with app.test_request_context(), in_language("en"):
        assert format_moment(start, "America/New_York") == "Wed, Dec 2, 2026 11:00 (America/New_York)"


def test_a_syncs_stored_actions_read_in_the_viewers_language_and_stay_as_stored_in_english(app):
    stored = "created Lead, linked existing Contact (converted Lead, not updated), created Event"
    with app.test_request_context(), in_language("ja"):
        assert action_words(stored) == (
            "リードを作成、既存の取引先責任者に紐付け（取引先責任者に変換済みのリード、上書きしない）、行動を作成"
        )
        assert action_words("something an older version wrote") == "something an older version wrote"
    with app.test_request_context(), in_language("en"):
        assert action_words(stored) == stored
