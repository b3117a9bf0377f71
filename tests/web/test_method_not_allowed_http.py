"""Wrong methods and missing tokens answer as HTTP says and in the page's language: 405 with `Allow` (JSON with
error_vi under /api/, the Vietnamese error page elsewhere, never werkzeug's English page), 401 with
`WWW-Authenticate: Bearer`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from tests.web.conftest import login

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_opening_a_button_address_is_the_vietnamese_error_page_with_allow(app: Flask, person: Callable[..., str],
                                                                          unit: Unit) -> None:
    client = app.test_client()
    login(client, person("Gõ Địa Chỉ", unit, Role.SUPERADMIN))
    for path in ("/logout", f"/mailboxes/{person('Bị Gõ Nhầm', unit)}/unlock"):
        answer = client.get(path)  # typed into the address bar: a POST-only route
        page = answer.get_data(as_text=True)
        assert answer.status_code == 405 and "POST" in answer.headers["Allow"], path
        assert 'lang="vi"' in page and "Lỗi 405" in page and "Method Not Allowed" not in page
        assert "không mở trực tiếp" in page and 'id="correlation"' in page


def test_anonymous_wrong_method_on_a_page_is_vietnamese_too(client: FlaskClient) -> None:
    answer = client.put("/login")
    assert answer.status_code == 405 and "GET" in answer.headers["Allow"]
    assert "Method Not Allowed" not in answer.get_data(as_text=True)


def test_every_api_route_answers_a_wrong_method_with_json_and_allow(app: Flask, client: FlaskClient) -> None:
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]
    assert rules
    for rule in rules:
        path = rule.rule.replace("<uid>", "x").replace("<action>", "suspend").replace("<code>", "54") \
            .replace("<unit_code>", "54").replace("<name>", "x")
        allowed = set(rule.methods or ())
        for method in (m for m in METHODS if m not in allowed and not _routed(app, path, m)):
            answer = client.open(path, method=method)
            data = answer.get_json()
            assert answer.status_code == 405 and data["error_vi"] and data["status"] == 405, (method, path)
            assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= allowed - {"HEAD", "OPTIONS"}


def _routed(app: Flask, path: str, method: str) -> bool:
    """Another rule of the same path takes this method (GET and POST /api/v1/mailboxes are two rules)."""
    try:
        app.url_map.bind("localhost").match(path, method=method)
    except Exception:  # any routing refusal means "not routed"
        return False
    return True


@pytest.mark.parametrize("header", [None, "Bearer ma_sai", "Basic eHg6eXk="])
def test_a_401_names_the_scheme_and_says_why_in_both_languages(client: FlaskClient, header: str | None) -> None:
    answer = client.get("/api/v1/mailboxes", headers={"Authorization": header} if header else {})
    data = answer.get_json()
    assert answer.status_code == 401 and data["error_vi"] and data["error"] and data["correlation_id"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_api_root_without_a_slash_is_json_too(client: FlaskClient) -> None:
    answer = client.get("/api")
    assert answer.status_code == 404 and answer.is_json and answer.get_json()["error_vi"]
