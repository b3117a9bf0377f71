"""A bulk action asks first (issue #12: "no confirmation before retire or bulk actions"): "no" changes nothing,
"yes" acts on the selection and the search stays."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import CHROMIUM, sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")


def test_a_bulk_suspension_is_asked_first(page: object, base_url: str, person: Callable[..., str], unit: Unit,
                                          services: Services) -> None:
    sign_in(page, base_url, person("Quản Trị Hỏi Trước", unit, Role.SUPERADMIN))
    chosen = person("Tạ Thị Được Chọn", unit)
    page.goto(f"{base_url}/mailboxes?unit={unit.code}&q=duoc+chon")
    page.check(f"input[name=uid][value={chosen}]")
    page.select_option("p.bulk select[name=action]", "suspend")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("p.bulk button[type=submit]")
    assert questions == ["Thực hiện thao tác này với mọi hộp thư đã chọn?"]
    assert services.mailboxes.get(chosen).status is Status.ACTIVE  # "no": nothing changed
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("p.bulk button[type=submit]")
    page.wait_for_url("**q=duoc+chon**")
    assert services.mailboxes.get(chosen).status is Status.SUSPENDED
    assert page.input_value("#q") == "duoc chon"  # the search stays


def test_the_list_leads_to_the_job_whose_undo_is_asked_first(page: object, base_url: str,
                                                              person: Callable[..., str], unit: Unit,
                                                              services: Services) -> None:
    sign_in(page, base_url, person("Quản Trị Hoàn Tác", unit, Role.SUPERADMIN))
    chosen = person("Tạ Thị Hoàn Tác", unit)
    page.goto(f"{base_url}/mailboxes?unit={unit.code}&q=hoan+tac")
    page.check(f"input[name=uid][value={chosen}]")
    page.select_option("p.bulk select[name=action]", "suspend")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("p.bulk button[type=submit]")
    page.click("#last-job-link")  # the list names the job it just ran
    assert page.inner_text(f"#row-{chosen} .outcome") == "Đã xong"
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("#undo")
    assert questions == ["Đưa mọi hộp thư của công việc này về như trước?"]
    assert services.mailboxes.get(chosen).status is Status.SUSPENDED  # "no": nothing changed
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#undo")
    page.wait_for_selector(f"#row-{chosen} .undo")
    assert page.inner_text(f"#row-{chosen} .undo") == "Đã xong"
    assert services.mailboxes.get(chosen).status is Status.ACTIVE
    page.click("#back")
    assert page.input_value("#q") == "hoan tac"  # back to the search it came from
