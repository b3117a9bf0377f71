"""Vietnamese by default, English selectable; catalogs compiled from .po at start; Vietnamese dates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from flask.testing import FlaskClient

from mailadmin.web.display import vndate
from mailadmin.web.language import CATALOGS, compile_catalogs


def test_vietnamese_by_default_and_english_on_request(admin_client: FlaskClient) -> None:
    page = admin_client.get("/mailboxes").get_data(as_text=True)
    assert "Hộp thư" in page and 'lang="vi"' in page and "Mailboxes" not in page
    assert admin_client.get("/lang/en?next=/mailboxes").headers["Location"] == "/mailboxes"
    english = admin_client.get("/mailboxes").get_data(as_text=True)
    assert 'lang="en"' in english and "Mailboxes" in english and 'id="search">Search<' in english
    admin_client.get("/lang/vi")
    assert 'id="search">Tìm<' in admin_client.get("/mailboxes").get_data(as_text=True)


def test_language_switch_never_redirects_elsewhere(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil"):
        assert client.get("/lang/en", query_string={"next": target}).headers["Location"] == "/"


def test_catalogs_compile_from_po_on_a_clean_checkout(tmp_path: Path) -> None:
    compile_catalogs(CATALOGS, tmp_path)
    assert (tmp_path / "en" / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000


def test_dates_are_written_the_vietnamese_way() -> None:
    assert vndate(date(2026, 9, 2)) == "02/09/2026"
    # Officers work in Asia/Ho_Chi_Minh: UTC times from the directory and the audit log are shown in it.
    assert vndate(datetime(2026, 11, 29, 14, 5)) == "21:05 29/11/2026 (GMT+7)"
    assert vndate("2026-11-29T07:30:00+00:00") == "14:30 29/11/2026 (GMT+7)"
    assert vndate("2026-11-29T20:30:00+00:00") == "03:30 30/11/2026 (GMT+7)"


def test_the_audit_log_shows_vietnams_time(admin_client: FlaskClient) -> None:
    """Times were UTC without a zone; officers read them as local time, seven hours off (issue #12)."""
    page = admin_client.get("/audit").get_data(as_text=True)
    assert "(GMT+7)" in page
