"""Every page in Japanese (issue 15): each GET route of the app, rendered with Accept-Language: ja for a signed-in
owner (who is also staff, so the support console is reached) and for a guest, shows no English word that the
English catalog uses, outside what people typed.

The world's own data is typed in Japanese (team, calendar, people, answers, Salesforce's message), so any English
word left on a page comes from the product. Not checked: <code>/<pre>/<kbd> (API names, trails), elements marked
translate="no" (time-zone names; values the preview shows going to Salesforce, which are the same in every
language), e-mail addresses and URLs, words that are names (Salesforce, Google…), and Salesforce's own field labels
and API names (the org's words: a real org gives its labels in its user's language, the emulator in English)."""

from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import pytest
from babel.messages.pofile import read_po

from portal.calendars.booking import hash_token
from portal.models import Invitation, NameFormat, Role
from portal.salesforce import describe
from tests.factories import login
from tests.integration_support import connected_world
from tests.sync_factories import make_attempt, make_booking, make_integration, make_sync

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
SKIPPED_ENDPOINTS = ("static", "auth.callback", "salesforce.callback", "health.health", "health.ready")
# Names and technical words that stay as they are in Japanese text.
NAMES = {
    "salesforce", "google", "microsoft", "oauth", "api", "url", "utc", "nul", "https", "post", "sandbox", "web",
    "enterprise", "unlimited", "developer", "performance", "professional", "edition", "errorid", "composite", "id",
    "client", "google_client_id", "microsoft_client_id", "salesforce_client_id", "cancelled", "json",
}  # fmt: skip
NOT_CHECKED = {"code", "pre", "kbd", "script", "style", "title"}
ADDRESS = re.compile(r"\S+@\S+|https?://\S+|/[\w/.\-<>]+|\b[\w-]+(?:\.[\w-]+)+\b")


def english_words() -> set[str]:
    """The words of the English messages (the msgids), lower-cased, without placeholders and markup."""
    with (ROOT / "portal/translations/ja/LC_MESSAGES/messages.po").open("rb") as handle:
        messages = [m.id for m in read_po(handle) if m.id]
    texts = [text for m in messages for text in (m if isinstance(m, tuple) else (m,))]
    words = set()
    for text in texts:
        text = re.sub(r"%\(\w+\)[sd]|<[^>]+>", " ", text)
        words.update(word.lower() for word in re.findall(r"[A-Za-z][A-Za-z']{2,}", text))
    return words - NAMES


class VisibleText(HTMLParser):
    """The text a person reads (and attribute texts: placeholder, title, aria-label, alt), minus what is not ours."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.VOID:
            if not self._skipping and tag in ("input", "img"):
                self.parts += [attributes.get(name) or "" for name in ("placeholder", "alt", "title", "aria-label")]
            return
        if (
            self._skipping
            or tag in NOT_CHECKED
            or attributes.get("translate") == "no"
            or (attributes.get("lang") == "en" and tag != "html")
        ):
            self._skipping.append(tag)
            return
        self.parts += [attributes.get(name) or "" for name in ("placeholder", "title", "aria-label")]

    def handle_endtag(self, tag):
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


class Salesforce(NamedTuple):
    """The org's own words on our pages: field labels (a real org writes them in its user's language; the emulator's
    are English) and API names (identifiers, shown as they are even in sentences: "… requires Company …")."""

    labels: frozenset[str] = frozenset()
    api_names: frozenset[str] = frozenset()


NO_SALESFORCE = Salesforce()


def english_on(page: str, vocabulary: set[str], salesforce: Salesforce = NO_SALESFORCE) -> set[str]:
    """English catalog words a person reads on the page, outside Salesforce's own labels and API names."""
    parser = VisibleText()
    parser.feed(page)
    text = " ".join(parser.parts)
    for label in sorted(salesforce.labels, key=len, reverse=True):
        text = re.sub(rf"(?<![\w/]){re.escape(label)}(?![\w/])", " ", text)
    text = ADDRESS.sub(" ", text)
    tokens = re.findall(r"[A-Za-z][A-Za-z0-9_']{2,}", text)  # ASCII: \w would glue on the Japanese after a word
    # Error codes (REQUIRED_FIELD_MISSING) and API names (LastName) are Salesforce's identifiers, not English text.
    words = [
        token
        for token in tokens
        if "_" not in token and not re.search(r"[a-z][A-Z]", token) and token not in salesforce.api_names
    ]
    return {word for word in words if word.lower() in vocabulary}


@pytest.fixture
def japanese_world(factory, db_session, salesforce_emulator, salesforce_control):
    made = connected_world(
        factory, db_session, salesforce_emulator, salesforce_control,
        name="初回相談", private_name="社内用の初回相談", name_format=NameFormat.FAMILY_GIVEN,
    )  # fmt: skip
    made.team.name = "営業部"
    owner = made.owner
    owner.name, owner.is_staff, owner.locale = "山田 花子", True, "ja"
    member = factory.member(made.team, Role.MEMBER, name="佐藤 次郎")
    invitation = Invitation(team_id=made.team.id, email="invited@example.test", role=Role.MEMBER)
    db_session.add(invitation)
    questions = {q.kind.value: q for q in made.calendar.questions}
    make_integration(
        db_session,
        made.calendar,
        [
            ("LastName", "question", str(questions["family_name"].id)),
            ("Email", "question", str(questions["email"].id)),
            ("Company", "fixed", "株式会社サンプル"),
        ],
    )
    booking = make_booking(
        db_session, made.calendar, guest_name="太郎 山田", guest_family_name="山田", guest_given_name="太郎",
        guest_locale="ja", guest_time_zone="Asia/Tokyo",
    )  # fmt: skip
    token = secrets.token_urlsafe(24)
    booking.manage_token_hash = hash_token(token)
    job = make_sync(db_session, booking, error_message="必須項目が入力されていません: [LastName]")
    make_attempt(db_session, job)
    salesforce_labels, api_names = set(), set()
    for object_name in ("Lead", "Contact"):
        payload = describe.describe_of(made.connection, object_name).payload
        salesforce_labels |= {field["label"] for field in payload["fields"]}
        api_names |= {field["name"] for field in payload["fields"]}
    db_session.commit()
    values = {
        "calendar_id": str(made.calendar.id), "team_id": str(made.team.id), "sync_id": str(job.id),
        "user_id": str(member.id), "invitation_id": str(invitation.id), "slug": made.calendar.slug, "token": token,
        "provider": "google", "filename": "css/app.css",
    }  # fmt: skip
    return owner, values, Salesforce(frozenset(salesforce_labels), frozenset(api_names))


def pages(app, values) -> list[tuple[str, str]]:
    """(rule, path) for every GET page."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in SKIPPED_ENDPOINTS:
            paths.append((rule.rule, PLACEHOLDER.sub(lambda match: values[match.group(1)], rule.rule)))
    return sorted(paths)


def test_every_page_in_japanese_shows_no_english_from_the_catalog(app, client, japanese_world):
    owner, values, salesforce = japanese_world
    vocabulary = english_words()
    assert {"booking", "calendar", "salesforce"} - NAMES <= vocabulary  # the vocabulary is the catalog's words
    login(client, owner)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ja,en;q=0.5"
    found = {}
    checked = 0
    for _rule, path in pages(app, values):
        response = client.get(path)
        if response.status_code >= 300 or response.mimetype != "text/html":
            continue  # redirects are checked where they lead; health checks are JSON for machines
        checked += 1
        page = response.get_data(as_text=True)
        assert 'lang="ja"' in page, path
        if words := english_on(page, vocabulary, salesforce):
            found[path] = sorted(words)
    assert checked > 25
    assert not found, "English words on Japanese pages:\n" + "\n".join(f"{p}: {w}" for p, w in found.items())


def test_the_test_sees_english_when_the_viewer_reads_english(app, client, japanese_world):
    """The same check on the English pages finds words, so the Japanese result is not an empty check."""
    owner, values, _labels = japanese_world
    owner.locale = None
    login(client, owner)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/book/{values['slug']}").get_data(as_text=True)
    assert 'lang="en"' in page and english_on(page, english_words())


BODY = re.compile(r'<pre data-role="composite-body">(.*?)</pre>', re.S)


def test_what_goes_to_salesforce_does_not_change_with_the_viewers_language(app, client, japanese_world):
    """The preview (the same planner the sync uses) shows the same Composite bodies, field values, Event subject and
    picklist values included, to a Japanese and an English viewer."""
    owner, values, _labels = japanese_world
    login(client, owner)
    preview = f"/calendars/{values['calendar_id']}/integrations/salesforce/preview"
    bodies = {}
    for language in ("ja", "en"):
        owner.locale = language
        page = client.get(preview).get_data(as_text=True)
        assert f'lang="{language}"' in page
        bodies[language] = BODY.findall(page)
    assert bodies["ja"] and bodies["ja"] == bodies["en"]
