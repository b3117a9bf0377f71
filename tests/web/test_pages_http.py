"""Dashboard, units, audit log and self-service at HTTP level."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login


def _as(app: Flask, uid: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, uid).status_code == 302
    return client


def test_dashboard_counts_and_svg_chart_without_cdn(admin_client: FlaskClient, services: Services) -> None:
    page = admin_client.get("/").get_data(as_text=True)
    total = sum(1 for _ in services.mailboxes.store.search())
    assert f'id="total">{total:,}'.replace(",", ".") in page
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", "")
    assert "<script src=\"http" not in page


def test_unit_admin_dashboard_counts_only_their_unit(unit_admin_client: FlaskClient, unit: Unit,
                                                     person: Callable[..., str]) -> None:
    person("Thêm Một Người", unit)
    page = unit_admin_client.get("/").get_data(as_text=True)
    assert 'id="total">2<' in page  # the unit admin and the new person
    assert 'id="cert-holders">0<' in page and 'id="cert-expiring">0<' in page


def test_units_create_rename_move_and_appoint(admin_client: FlaskClient, unit: Unit, other_unit: Unit,
                                              person: Callable[..., str], services: Services) -> None:
    token = csrf_token(admin_client, f"/units/{unit.code}")
    code = f"{unit.code}X"
    admin_client.post(f"/units/{unit.code}/create", data={"csrf_token": token, "code": code,
                                                          "name": "Phòng Tổng hợp", "kind": "agency"})
    services.units.forget()
    assert services.units.get(code).path == (*unit.path, code)
    admin_client.post(f"/units/{code}/rename", data={"csrf_token": token, "name": "Phòng Hành chính"})
    admin_client.post(f"/units/{code}/move", data={"csrf_token": token, "parent": other_unit.code})
    services.units.forget()
    moved = services.units.get(code)
    assert (moved.name, moved.path) == ("Phòng Hành chính", (*other_unit.path, code))
    uid = person("Người Được Giao", unit)
    admin_client.post(f"/units/{code}/appoint", data={"csrf_token": token, "uid": uid})
    assert services.principal(uid).may_manage(moved)
    assert uid in admin_client.get(f"/units/{code}").get_data(as_text=True)
    tree = admin_client.get("/units").get_data(as_text=True)
    assert "Phòng Hành chính" in tree


def test_unit_admin_cannot_touch_other_units(unit_admin_client: FlaskClient, unit: Unit, other_unit: Unit,
                                             services: Services) -> None:
    token = csrf_token(unit_admin_client, f"/units/{unit.code}")
    assert unit_admin_client.get(f"/units/{other_unit.code}").status_code == 403
    for action, data in (("rename", {"name": "Chiếm"}), ("create", {"code": "ZZ1", "name": "x", "kind": "agency"}),
                         ("move", {"parent": unit.code}), ("appoint", {"uid": "quantri"})):
        response = unit_admin_client.post(f"/units/{other_unit.code}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 403, action
    assert unit_admin_client.post(f"/units/{unit.code}/move", data={"csrf_token": token,
                                                                    "parent": other_unit.code}).status_code == 403
    assert unit_admin_client.post(f"/units/{unit.code}/appoint", data={"csrf_token": token,
                                                                       "uid": "x"}).status_code == 403
    services.units.forget()
    assert services.units.get(other_unit.code).name == other_unit.name
    assert other_unit.name not in unit_admin_client.get("/units").get_data(as_text=True)


def test_audit_log_is_readable_by_auditors_only_and_filterable(
        app: Flask, admin_client: FlaskClient, unit_admin_client: FlaskClient, person: Callable[..., str],
        unit: Unit) -> None:
    uid = person("Người Bị Khóa", unit)
    admin_client.post(f"/mailboxes/{uid}/status/suspend", data={"csrf_token": csrf_token(admin_client, "/")})
    auditor = _as(app, person("Kiểm Toán Viên", unit, Role.AUDITOR))
    page = auditor.get("/audit", query_string={"action": "suspend", "target": uid}).get_data(as_text=True)
    assert "mailbox.suspend" in page and uid in page and "web:" in page
    assert "mailbox.create" not in page
    assert unit_admin_client.get("/audit").status_code == 403
    assert auditor.post("/audit", data={"csrf_token": csrf_token(auditor, "/audit")}).status_code == 405


def test_self_service_shows_own_details(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    client = _as(app, person("Chủ Hộp Thư", unit))
    page = client.get("/me").get_data(as_text=True)
    assert "Chủ Hộp Thư" in page and unit.name in page
    assert client.get("/units").status_code == 403 and client.get("/audit").status_code == 403


def test_dashboard_counts_bound_certificates(unit_admin_client: FlaskClient, unit: Unit,
                                             person: Callable[..., str], services: Services) -> None:
    from tests.certs.factory import der, root_ca

    holder = services.mailboxes.store.find_entry(person("Có Chứng Thư", unit)).dn
    services.client.modify(holder, {"userCertificate;binary": ("add", [der(root_ca().cert)])})
    assert 'id="cert-holders">1<' in unit_admin_client.get("/").get_data(as_text=True)


def test_per_unit_counts_follow_a_new_mailbox_at_once(services: Services, unit: Unit,
                                                      person: Callable[..., str]) -> None:
    """Cached until a client writes (slapd's counters), not for a fixed minute of stale numbers."""
    person("Đếm Một", unit)
    assert services.dashboard.unit_totals()[unit.code] == 1
    person("Đếm Hai", unit)
    assert services.dashboard.unit_totals()[unit.code] == 2


def test_me_shows_the_mail_program_settings_with_a_copy_button(app, person, unit) -> None:
    """An official sets up Outlook from /me: address, IMAP and SMTP hosts, ports and security (issue #12)."""
    from tests.web.conftest import login

    client = app.test_client()
    uid = person("Trịnh Văn Cài Đặt", unit)
    login(client, uid)
    page = client.get("/me").get_data(as_text=True)
    table = page.split('id="mail-client"')[1].split("</table>")[0]
    for value in (f"{uid}@phuyen.gov.vn", "mail.phuyen.gov.vn", "993", "SSL/TLS", "587", "STARTTLS"):
        assert f">{value}<" in table, value
    assert 'data-copy="mail-client"' in page and "2 GB" in page


def test_the_unit_tree_folds_by_branch_and_finds_a_unit_by_name(admin_client: FlaskClient) -> None:
    """137 flat rows, no collapse or search (issue #12): branches fold, a search names units with their path."""
    tree = admin_client.get("/units").get_data(as_text=True)
    assert '<details open id="unit-54">' in tree and '<details  id="unit-555">' in tree  # districts folded
    found = admin_client.get("/units", query_string={"q": "hoa kien"}).get_data(as_text=True)
    listed = found.split('id="units"')[1].split("</table>")[0]
    assert "Xã Hòa Kiến" in listed and "›" in listed and "Thị trấn" not in listed
    assert 'id="no-units"' in admin_client.get("/units", query_string={"q": "khong co dau"}).get_data(as_text=True)
    by_code = admin_client.get("/units", query_string={"q": "22042"}).get_data(as_text=True)
    assert "Xã Hòa Kiến" in by_code.split('id="units"')[1]


def test_a_unit_admin_is_picked_by_name_from_the_units_staff(admin_client: FlaskClient, person, unit: Unit) -> None:
    """Admins were appointed by typing a uid (issue #12): the form offers the unit's people by name."""
    uid = person("Vương Thị Được Chọn", unit)
    page = admin_client.get(f"/units/{unit.code}").get_data(as_text=True)
    staff = page.split('<datalist id="unit-staff">')[1].split("</datalist>")[0]
    assert f'<option value="{uid}">Vương Thị Được Chọn' in staff
