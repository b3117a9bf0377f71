"""One word for one thing on every page (issue #12 "Wording"): "Thôi sử dụng", never "Cho nghỉ"; "Mã nhân sự",
never "Mã NS"; sizes in MB/GB, never "MiB" — in Vietnamese and in English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from mailadmin import create_app
from tests.conftest import RunningDirectory
from tests.web.conftest import login
from tests.web.page_tour import TOUR_PASSWORD, World, build_world, stops
from tests.web.test_vietnamese_pages import visible_text

BANNED = {"vi": ("Cho nghỉ", "cho nghỉ", "Mã NS", "MiB"), "en": ("MiB",)}


@pytest.fixture(scope="module")
def tour_app(directory: RunningDirectory) -> Iterator[tuple[Flask, World]]:
    app = create_app({"TESTING": True}, settings=directory.settings)
    yield app, build_world(directory.services, "WORD")
    app.extensions["mailadmin"].close()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_page_uses_the_words_the_issue_retired(tour_app: tuple[Flask, World], language: str) -> None:
    app, world = tour_app
    client = app.test_client()
    assert login(client, world.people["superadmin"], TOUR_PASSWORD).status_code == 302
    client.get(f"/lang/{language}")
    found = []
    for stop in stops(app, world):
        answer = client.get(stop.path)
        if answer.mimetype == "text/html":
            text = visible_text(answer.get_data(as_text=True))
            found += [(stop.path, word) for word in BANNED[language] if word in text]
    assert found == []
