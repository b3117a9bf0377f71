"""Nobody acts on a mailbox whose owner holds rights beyond their own (issue #10, point 1).

A unit admin of 555 reset the password of a mailbox in 555 whose owner was unit admin of 557, logged
in as it and acted on 557: the checks looked at the target's unit only. Here every role walks every
mutating route of the web admin and the API, over targets in the actor's own unit that hold wider
roles, and not one request may succeed or change anything.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.services.mailboxes import mailbox_record
from mailadmin.wiring import Services
from tests.certs import factory as f
from tests.web.conftest import PASSWORD, csrf_token, login
from tests.web.test_certificates_http import AROUND_TODAY, chain_pem
from tests.web.test_every_endpoint import routes

# Routes with a <uid> that act on a list, not on the person: list membership is the list's business.
NOT_ACTING_ON_THE_PERSON = {"lists.remove_member"}
ACTIONS = {"mailboxes.lifecycle": ("suspend", "resume", "retire"),
           "api.change_mailbox": ("suspend", "resume", "retire", "move", "password")}
BULK_ACTIONS = ("suspend", "resume", "move")


@dataclass(frozen=True)
class Target:
    uid: str
    fingerprint: str
    certificate: bytes


@pytest.fixture(scope="module")
def live_gov() -> f.Hierarchy:
    root = f.root_ca(**AROUND_TODAY)
    return f.Hierarchy(root, f.sub_ca(root, **AROUND_TODAY), [root.cert])


@pytest.fixture
def web(app: Flask, tmp_path: Path, live_gov: f.Hierarchy, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The app's services, trusting the test CA (so that certificate routes are exercised for real)."""
    bundle = tmp_path / "anchors.pem"
    bundle.write_bytes(f.pem(live_gov.root.cert))
    monkeypatch.setenv("MAILADMIN_TRUST_ANCHORS", str(bundle))
    return app.extensions["mailadmin"]


@pytest.fixture
def wide_targets(web: Services, person: Callable[..., str], unit: Unit, other_unit: Unit,
                 live_gov: f.Hierarchy) -> Iterator[list[Target]]:
    """Mailboxes in `unit` whose owners hold rights reaching beyond a unit admin of `unit`, each with a certificate."""
    province = web.units.get("54")
    holders = [person("Lê Siêu Quản", unit, Role.SUPERADMIN), person("Phạm Kiểm Toán", unit, Role.AUDITOR),
               person("Võ Quản Khác", unit, Role.UNITADMIN, (other_unit,)),
               person("Đỗ Quản Tỉnh", unit, Role.UNITADMIN, (province,)),
               person("Hồ Nhân Sự", unit, Role.HR, (other_unit,))]
    yield [_with_certificate(web, uid, live_gov) for uid in holders]
    for uid in holders:  # a province-wide admin left behind would be every unit's admin in later tests
        web.roles.set(web.mailboxes.store.find_entry(uid).dn, frozenset(), ())


def _with_certificate(web: Services, uid: str, gov: f.Hierarchy) -> Target:
    data, fingerprint = chain_pem(gov, web, uid)
    web.certificates.bind(uid, data)
    spare, _ = chain_pem(gov, web, uid)  # a second, unbound one for the upload route
    return Target(uid, fingerprint, spare)


def state(web: Services, uid: str) -> tuple[object, ...]:
    """Everything an attacker could change on a mailbox: its record, password, policy flags and certificates."""
    dn = web.mailboxes.store.find_entry(uid).dn
    return (mailbox_record(web.mailboxes.get(uid)), web.mailboxes.store.password_hashes(dn),
            web.mailboxes.store.password_state(dn), web.roles.get(dn),
            sorted(b.info.fingerprint_sha256 for b in web.certificates.show(uid)))


def web_requests(app: Flask, target: Target, unit: Unit) -> Iterator[tuple[str, str, dict]]:
    """(label, URL, form) for every POST route of the web admin that takes a mailbox, with this target."""
    for endpoint, method, url in routes(app):
        if method != "POST" or endpoint.startswith(("api.", "auth.")) or endpoint in NOT_ACTING_ON_THE_PERSON:
            continue
        if "/annv" not in url:
            continue
        base = url.replace("/annv", f"/{target.uid}").replace("AB" * 32, target.fingerprint)
        for action in ACTIONS.get(endpoint, (None,)):
            concrete = base.replace("/suspend", f"/{action}") if action else base
            yield f"{endpoint}:{action or ''}", concrete, {
                "title": "Chiếm quyền", "phone": "0900000000", "hr_id": "", "quota_mib": "1",
                "aliases": "", "unit": unit.code, "confirm": "yes",
                "certificate": (io.BytesIO(target.certificate), "chiem.pem")}
    for action in BULK_ACTIONS:
        yield f"mailboxes.bulk:{action}", "/mailboxes/bulk", {"action": action, "uid": target.uid, "unit": unit.code}


def api_requests(target: Target, unit: Unit) -> Iterator[tuple[str, str, dict]]:
    """(label, URL, JSON) for every API call that acts on a mailbox."""
    for action in ACTIONS["api.change_mailbox"]:
        yield f"api:{action}", f"/api/v1/mailboxes/{target.uid}/{action}", {"unit": unit.code}


def actors(person: Callable[..., str], unit: Unit) -> dict[str, str]:
    """One person of each role over `unit` (or everything, for the auditor), and an owner with none."""
    return {"unitadmin": person("Trần Quản Lý", unit, Role.UNITADMIN, (unit,)),
            "hr": person("Ngô Nhân Sự", unit, Role.HR, (unit,)),
            "auditor": person("Bùi Kiểm Tra", unit, Role.AUDITOR),
            "owner": person("Chỉ Là Chủ Hộp", unit)}


def test_no_role_walks_over_a_wider_role_holder(app: Flask, web: Services, person: Callable[..., str], unit: Unit,
                                                wide_targets: list[Target]) -> None:
    before = {target.uid: state(web, target.uid) for target in wide_targets}
    successes = []
    for role, uid in actors(person, unit).items():
        client = app.test_client()
        assert login(client, uid).status_code == 302
        token = csrf_token(client, "/me")
        bearer = {"Authorization": f"Bearer {web.tokens.issue(uid)}"}
        for target in wide_targets:
            for label, url, form in web_requests(app, target, unit):
                answer = client.post(url, data={**form, "csrf_token": token}, content_type="multipart/form-data")
                if answer.status_code != 403:
                    successes.append((role, target.uid, label, answer.status_code))
            for label, url, body in api_requests(target, unit):
                answer = client.post(url, json=body, headers=bearer)
                if answer.status_code != 403:
                    successes.append((role, target.uid, label, answer.status_code))
    assert successes == []
    assert {target.uid: state(web, target.uid) for target in wide_targets} == before


def test_the_walk_is_not_empty_and_plain_staff_stay_in_reach(app: Flask, web: Services, person: Callable[..., str],
                                                            unit: Unit, live_gov: f.Hierarchy) -> None:
    """The same requests by the unit admin on plain staff (and on a deputy inside the unit) do act."""
    deputy = person("Lý Phó Quản", unit, Role.UNITADMIN, (unit,))
    plain = person("Mai Văn Thường", unit)
    client = app.test_client()
    assert login(client, person("Trần Quản Lý", unit, Role.UNITADMIN, (unit,))).status_code == 302
    token = csrf_token(client, "/me")
    for uid in (plain, deputy):
        target = _with_certificate(web, uid, live_gov)
        labels = [label for label, url, form in web_requests(app, target, unit)
                  if client.post(url, data={**form, "csrf_token": token},
                                 content_type="multipart/form-data").status_code in (200, 302)]
        assert len(labels) >= 8, labels  # edit, 3 × status, move, password, upload, unbind, bulk…
    assert web.mailboxes.get(plain).title == "Chiếm quyền"


def test_a_super_admin_still_manages_other_role_holders(admin_client: FlaskClient, web: Services,
                                                       person: Callable[..., str], unit: Unit,
                                                       other_unit: Unit) -> None:
    holder = person("Võ Quản Khác", unit, Role.UNITADMIN, (other_unit,))
    token = csrf_token(admin_client, f"/mailboxes/{holder}")
    answer = admin_client.post(f"/mailboxes/{holder}/password", data={"csrf_token": token})
    assert answer.status_code == 302 and web.mailboxes.store.password_state(
        web.mailboxes.store.find_entry(holder).dn)[0]


def test_the_mailbox_page_offers_no_change_of_a_wider_holder(unit_admin_client: FlaskClient,
                                                            person: Callable[..., str], unit: Unit,
                                                            other_unit: Unit) -> None:
    holder = person("Võ Quản Khác", unit, Role.UNITADMIN, (other_unit,))
    page = unit_admin_client.get(f"/mailboxes/{holder}").get_data(as_text=True)
    assert f"/mailboxes/{holder}/password" not in page and f"/mailboxes/{holder}/status/" not in page


def test_taking_over_then_logging_in_as_the_wider_holder_fails(unit_admin_client: FlaskClient, app: Flask,
                                                             person: Callable[..., str], unit: Unit,
                                                             other_unit: Unit) -> None:
    """The attack as reported: reset the holder's password, log in with it, act on the other unit."""
    holder = person("Võ Quản Khác", unit, Role.UNITADMIN, (other_unit,))
    token = csrf_token(unit_admin_client, f"/mailboxes/{holder}")
    answer = unit_admin_client.post(f"/mailboxes/{holder}/password", data={"csrf_token": token})
    assert answer.status_code == 403
    assert "Mật khẩu" not in answer.get_data(as_text=True) or "quyền" in answer.get_data(as_text=True)
    assert login(app.test_client(), holder, PASSWORD).status_code == 302  # the owner's password still works
