"""One error path for the web: plain pages that query nothing, a correlation id in the page and the log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.model import Role
from mailadmin.services.mailboxes import NewMailbox
from tests.conftest import RunningDirectory, make_agency
from tests.web.conftest import PASSWORD, login

CORRELATION = re.compile(r'id="correlation">([0-9a-f]{12})<')


@pytest.fixture
def down_app(fresh_directory: RunningDirectory) -> Iterator[tuple[Flask, RunningDirectory]]:
    """An app on a directory of its own, which the test may stop."""
    flask_app = create_app({"TESTING": True}, settings=fresh_directory.settings)
    yield flask_app, fresh_directory
    flask_app.extensions["mailadmin"].close()


def _admin(running: RunningDirectory) -> str:
    services = running.services
    unit = make_agency(services, "E", "Đơn vị lỗi")
    uid = services.mailboxes.add(NewMailbox(full_name="Quản Trị Lỗi", unit_code=unit.code,
                                            password=PASSWORD)).mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
    return uid


def _correlation_in(body: str) -> str:
    found = CORRELATION.search(body)
    assert found, body
    return found.group(1)


def _logged_correlation(caplog: pytest.LogCaptureFixture, correlation: str) -> logging.LogRecord:
    found = [record for record in caplog.records if correlation in record.getMessage()]
    assert found, [record.getMessage() for record in caplog.records]
    return found[0]


def test_dashboard_with_the_directory_down_is_a_503_page(down_app: tuple[Flask, RunningDirectory],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    app, running = down_app
    client = app.test_client()
    assert login(client, _admin(running)).status_code == 302
    assert client.get("/").status_code == 200
    running.slapd.stop()
    for path in ("/", "/mailboxes", "/khong-co-trang-nay"):
        answer = client.get(path)
        body = answer.get_data(as_text=True)
        assert answer.status_code == 503, (path, body)
        assert "Thư mục" in body and "directory" in body and "Traceback" not in body
        _logged_correlation(caplog, _correlation_in(body))


def test_api_with_the_directory_down_is_json_503(down_app: tuple[Flask, RunningDirectory]) -> None:
    app, running = down_app
    token = running.services.tokens.issue(_admin(running))
    running.slapd.stop()
    answer = app.test_client().get("/api/v1/mailboxes", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503
    data = answer.get_json()
    assert set(data) == {"error", "error_vi", "status", "correlation_id"} and data["status"] == 503
    assert "directory" in data["error"] and "thư mục" in data["error_vi"].lower()


@pytest.fixture
def broken_app(app: Flask) -> Flask:
    """The test app with two routes that fail the way a bug would (not a mock: real requests hit them)."""
    def boom() -> str:
        raise RuntimeError("bug in a view")
    app.add_url_rule("/test-only/boom", "boom", boom)
    app.add_url_rule("/api/v1/test-only/boom", "api_boom", boom)
    return app


def test_an_unexpected_exception_is_a_plain_page_with_a_logged_correlation_id(
        broken_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    answer = broken_app.test_client().get("/test-only/boom")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 500 and "bug in a view" not in body and "Traceback" not in body
    assert "Đã có lỗi" in body and "An unexpected error" in body
    correlation = _correlation_in(body)
    record = _logged_correlation(caplog, correlation)
    assert record.exc_info is not None and "bug in a view" in str(record.exc_info[1])


def test_api_unexpected_exception_is_json_with_a_correlation_id(broken_app: Flask,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    answer = broken_app.test_client().get("/api/v1/test-only/boom")
    assert answer.status_code == 500
    data = answer.get_json()
    assert set(data) == {"error", "error_vi", "status", "correlation_id"}
    _logged_correlation(caplog, data["correlation_id"])


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/khong-co", 404), ("DELETE", "/api/v1/mailboxes", 405), ("PUT", "/api/v1/units", 405)])
def test_api_404_and_405_are_json(client: FlaskClient, method: str, path: str, status: int) -> None:
    answer = client.open(path, method=method)
    assert answer.status_code == status and answer.is_json
    data = answer.get_json()
    assert data["status"] == status and data["error"] and data["error_vi"] and data["correlation_id"]


def test_api_refusals_carry_both_languages(client: FlaskClient) -> None:
    data = client.get("/api/v1/mailboxes").get_json()
    assert data["status"] == 401 and data["error_vi"] and data["correlation_id"]
