"""No English in a Vietnamese page: every GET page, as each role that can open it, scanned for English words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from tests.conftest import RunningDirectory
from tests.web.conftest import login
from tests.web.page_tour import ROLES, TOUR_PASSWORD, World, build_world, stops

# Proper names and technical identifiers that are the same in Vietnamese. English words that merely happen to
# be common in IT talk (ok, id, url, email) are not here: a page says them in Vietnamese (Mã, địa chỉ, thư).
ALLOWED = {"csv", "yaml", "yml", "excel", "xlsx", "api", "imap", "smtp", "ssl", "tls", "starttls", "ldap", "pem",
           "der", "pkcs", "sha", "cer", "crt", "gmt", "mailadmin", "english", "token", "bearer", "uid", "pdf",
           "cccd", "mb", "gb", "ca", "vn", "gov", "http", "https", "sim",
           "etoken", "jrai", "outlook", "thunderbird", "eabar", "eabia", "eatrol", "ealy",
           "google", "microsoft", "authenticator", "freeotp", "otpauth"}  # authenticator apps, the otpauth: URI
# A possible Vietnamese syllable written without diacritics: initial consonant, vowels, final consonant.
SYLLABLE = re.compile(r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?")
# English words that happen to be spelt like Vietnamese syllables.
ENGLISH_LOOKALIKES = {"the", "of", "and", "or", "by", "is", "not", "none", "true", "false", "done", "page", "name"}
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "samp"}


class VisibleText(HTMLParser):
    """The text a reader sees: no tags, no attribute values, no scripts or styles, no code samples."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skipping += tag in SKIPPED_ELEMENTS

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= tag in SKIPPED_ELEMENTS and self.skipping > 0

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The visible text of a page."""
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def is_identifier(token: str) -> bool:
    """Addresses, uids with digits, DNs, times, paths. A dotted code (mailbox.create) is not exempt: it is English
    words shown to the officer; file names and domains pass because their parts do (nhan-su.csv, phuyen.gov.vn)."""
    return bool(re.search(r"[@:=_/\d]", token.lstrip("(«\"'").rstrip(".,;:)»\"'!?…")))


def english_words(text: str, uids: frozenset[str] = frozenset()) -> list[str]:
    """Words of the text that cannot be Vietnamese and are not on the allow-list (nor a mailbox's uid)."""
    found = []
    for token in text.split():
        if is_identifier(token):
            continue
        for word in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", token):
            lower = word.lower()
            if lower in ALLOWED or lower in uids or (word.isupper() and len(word) > 1) or not lower.isascii():
                continue
            if lower in ENGLISH_LOOKALIKES or not SYLLABLE.fullmatch(lower):
                found.append(word)
    return found


def test_the_scanner_finds_the_words_of_issue_12() -> None:
    text = "Trạng thái: done · Cấp district · Giữ đến (kept until) · superadmin · Digital signature"
    assert english_words(text) == ["done", "district", "kept", "until", "superadmin", "Digital", "signature"]
    assert english_words("Nguyễn Văn An annv@phuyen.gov.vn SHA-256 CSV Tuy An Hoa nhan-su.csv phuyen.gov.vn") == []
    assert english_words("Thao tác: mailbox.create · certificate.bind") == ["mailbox", "create", "certificate", "bind"]


@pytest.fixture(scope="module")
def tour_app(directory: RunningDirectory) -> Iterator[tuple[Flask, World]]:
    """The app over the session's directory, and the tour's world in a unit of its own."""
    app = create_app({"TESTING": True}, settings=directory.settings)  # its own login throttle
    yield app, build_world(directory.services, "VI")
    app.extensions["mailadmin"].close()


def client_as(app: Flask, world: World, role: str | None) -> FlaskClient:
    """A client signed in as the world's person with `role` (anonymous for None)."""
    client = app.test_client()
    if role is not None:
        assert login(client, world.people[role], TOUR_PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_page_is_in_vietnamese(tour_app: tuple[Flask, World], role: str | None) -> None:
    app, world = tour_app
    uids = frozenset(mailbox.uid for mailbox in app.extensions["mailadmin"].mailboxes.store.search())
    client = client_as(app, world, role)
    offenders, opened = {}, []
    for stop in stops(app, world):
        response = client.get(stop.path)
        if response.mimetype != "text/html" or 300 <= response.status_code < 400:
            continue  # refusals (403, 404) are pages too
        if response.status_code == 200:
            opened.append(stop.endpoint)
        words = english_words(visible_text(response.get_data(as_text=True)), uids)
        if words:
            offenders[stop.path] = sorted(set(words))
    assert opened, role
    if role == "superadmin":  # a real tour: the super admin opens every page
        assert set(opened) == {stop.endpoint for stop in stops(app, world)}
    assert offenders == {}, "\n".join(f"{path}: {words}" for path, words in offenders.items())


def test_codes_are_shown_by_name_in_both_languages(tour_app: tuple[Flask, World]) -> None:
    """Role names, key usages and unit kinds were raw codes ('superadmin', 'digitalSignature', 'agency')."""
    app, world = tour_app
    client = client_as(app, world, "superadmin")
    me = visible_text(client.get("/me").get_data(as_text=True))
    unit = visible_text(client.get(f"/units/{world.unit.code}").get_data(as_text=True))
    assert "Quản trị tỉnh" in me and "superadmin" not in me and "Cơ quan cấp tỉnh" in unit
    audit = visible_text(client.get(f"/audit?unit={world.unit.code}").get_data(as_text=True))
    assert re.search(r"Giữ đến: — → \d\d/\d\d/\d{4}\b", audit) and "Đã thôi sử dụng" in audit  # not 2027-12-01
    assert "Thôi sử dụng hộp thư" in audit and "mailbox.retired" not in audit  # actions by name, not by code
    client.get("/lang/en?next=/me")
    me = visible_text(client.get("/me").get_data(as_text=True))
    owner = visible_text(client.get(f"/mailboxes/{world.people['owner']}").get_data(as_text=True))
    assert "Province administrator" in me and "Digital signature" in owner and "Non-repudiation" in owner
    audit = visible_text(client.get(f"/audit?unit={world.unit.code}").get_data(as_text=True))
    assert "Mailbox retired" in audit and "Mailbox suspended" in audit
