"""Applying plans on the real slapd: passwords, idempotence, round trips, updates, moves, undo."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailadmin.cli import main
from mailadmin.errors import InvalidInput
from mailadmin.importer.apply import compile_ops, writes
from mailadmin.importer.export import export_csv, export_yaml
from mailadmin.importer.ops import ADD, MODIFY, MOVE
from mailadmin.importer.plan import Outcome
from mailadmin.model import Unit
from mailadmin.wiring import Services

from .conftest import import_file, state_of
from .helpers import csv_file, spelled


def people(unit: Unit, count: int, start: int = 1) -> list[list[str]]:
    return [[f"{unit.code}-{n}", f"Nguyễn Văn Hùng {spelled(unit.code)}", unit.code, "Chuyên viên", "0257 3812345"]
            for n in range(start, start + count)]


def results(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_creates_get_random_forced_change_passwords_in_a_private_results_file(
        services: Services, unit: Unit, tmp_path: Path) -> None:
    data = csv_file([*people(unit, 3), [f"{unit.code}-x", "Lê Thị Hoa", unit.code, "", "+84 905 123 456", "",
                                         f"hoa.{unit.code.lower()}@phuyen.gov.vn"]])
    report = tmp_path / "results.csv"
    summary = import_file(services, data, report=report)
    assert summary["counts"]["create"] == 4 and summary["state"] == "done"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    rows = results(report)
    passwords = [row["Mật khẩu ban đầu (Initial password)"] for row in rows]
    assert len(set(passwords)) == 4 and all(len(p) >= 16 for p in passwords)
    for row in rows:
        uid = row["Thư điện tử (Mail)"].split("@")[0]
        entry = services.mailboxes.store.find_entry(uid)
        assert services.client.check_password(entry.dn, row["Mật khẩu ban đầu (Initial password)"])
        attributes = services.client.get(entry.dn, ["userPassword", "pwdReset"])
        assert attributes is not None and attributes.text("pwdReset") == "TRUE"
        assert attributes.text("userPassword").startswith("{SSHA512}")
    # passwords left nowhere else (this job's only: other tests' unconfirmed previews share the folder)
    assert not (services.imports.jobs_dir / summary["job"] / "secrets.jsonl").exists()
    assert services.mailboxes.get(rows[3]["Thư điện tử (Mail)"].split("@")[0]).phone == "+84 905 123 456"


def test_reimporting_the_same_file_plans_nothing(services: Services, unit: Unit) -> None:
    data = csv_file(people(unit, 3))
    import_file(services, data)
    preview = services.imports.preview(data, "again.csv")
    assert preview.plan.writes == [] and preview.plan.counts()["unchanged"] == 3


@pytest.mark.parametrize("file_format", ["csv", "yaml"])
def test_export_reimports_with_nothing_to_do(services: Services, unit: Unit, file_format: str) -> None:
    rows = people(unit, 2) + [[f"{unit.code}-f", "Trần Bình", unit.code, "=SUM(A1:A9)", "+84 905 111 222", "",
                               f"bi.{unit.code.lower()}@phuyen.gov.vn", "suspended"]]
    assert import_file(services, csv_file(rows))["errors"] == []
    mailboxes = list(services.imports.export(unit.code))
    exported = export_csv(mailboxes) if file_format == "csv" else export_yaml(mailboxes)
    if file_format == "csv":
        assert b"'=SUM(A1:A9)" in exported and b"'+84 905 111 222" in exported
    preview = services.imports.preview(exported, f"export.{file_format}")
    assert preview.plan.errors == []
    assert preview.plan.counts()["unchanged"] == 3 and preview.plan.writes == []


def test_updates_and_moves_apply_and_undo_restores(services: Services, unit: Unit, other_unit: Unit) -> None:
    import_file(services, csv_file(people(unit, 3)))
    before = state_of(services, unit)
    changed = people(unit, 3)
    changed[0][3] = "Trưởng phòng"
    changed[1][2] = other_unit.code
    changed[2] += ["", "", "suspended"]
    preview = services.imports.preview(csv_file(changed), "changed.csv")
    assert [a.outcome for a in preview.plan.actions] == [Outcome.UPDATE, Outcome.MOVE, Outcome.UPDATE]
    job = services.imports.start(preview)
    services.imports.apply(job)
    moved = preview.plan.actions[1].uid
    assert services.mailboxes.get(moved).unit_code == other_unit.code
    suspended = services.mailboxes.store.find_entry(preview.plan.actions[2].uid)
    assert suspended.text("pwdAccountLockedTime")  # the bind is locked, as `mailbox suspend` does
    undone = services.imports.undo(job.id)
    assert undone["undone"] == 3 and undone["not_undone"] == []
    assert state_of(services, unit) == before and state_of(services, other_unit) == {}
    assert not services.mailboxes.store.find_entry(preview.plan.actions[2].uid).text("pwdAccountLockedTime")


def test_an_import_runs_on_the_change_engine_one_write_per_row(services: Services, unit: Unit,
                                                                other_unit: Unit) -> None:
    """Rows compile to typed writes a resume recognises once done (status changes: lock and epoch too)."""
    import_file(services, csv_file(people(unit, 2)))
    changed = [*people(unit, 2), *people(unit, 1, start=3)]
    changed[0][2] = other_unit.code
    changed[1] += ["", "", "suspended"]
    job = services.imports.start(services.imports.preview(csv_file(changed), "changed.csv"))
    writer = services.imports._writer(None)
    ops = compile_ops(job.id, writes(job), writer)
    assert [(op.kind, op.index) for op in ops] == [(ADD, 2), (MODIFY, 1), (MOVE, 0)]
    assert not any("userPassword" in op.after or "userPassword" in op.before for op in ops)
    engine = writer.engine({}, {})
    assert not any(engine.effective(op) for op in ops)
    services.imports.apply(job)
    assert all(engine.effective(op) for op in ops)
    assert compile_ops(job.id, writes(job), writer) == ops  # the same writes when a resume compiles them again
    services.imports.undo(job.id)
    assert all(engine.effective(op.inverse()) for op in ops)


def test_undo_of_creates_deletes_them_but_leaves_later_edits_alone(services: Services, unit: Unit) -> None:
    summary = import_file(services, csv_file(people(unit, 2)))
    edited = sorted(state_of(services, unit))[0]
    services.mailboxes.suspend(edited)
    undone = services.imports.undo(summary["job"])
    assert undone["undone"] == 1 and len(undone["not_undone"]) == 1
    assert "changed since" in undone["not_undone"][0]["reason"]
    assert list(state_of(services, unit)) == [edited]


def test_good_rows_go_in_bad_rows_are_reported(services: Services, unit: Unit) -> None:
    summary = import_file(services, csv_file([*people(unit, 2), ["", "Không Mã", unit.code]]))
    assert summary["counts"]["create"] == 2 and summary["counts"]["error"] == 1
    assert summary["errors"][0]["line"] == 4 and "HR id" in summary["errors"][0]["error_en"]


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(services: Services, unit: Unit) -> None:
    preview = services.imports.preview(csv_file([*people(unit, 2), ["", "Không Mã", unit.code]]), "bad.csv")
    with pytest.raises(InvalidInput, match="nothing imported"):
        services.imports.start(preview, all_or_nothing=True)
    assert state_of(services, unit) == {}


def test_retire_missing(services: Services, unit: Unit) -> None:
    import_file(services, csv_file(people(unit, 3)))
    summary = import_file(services, csv_file(people(unit, 2)), retire_missing=unit.code)
    assert summary["counts"]["retire"] == 1 and summary["counts"]["unchanged"] == 2
    assert sorted(s["status"] for s in state_of(services, unit).values()) == ["active", "active", "retired"]


def everything(services: Services) -> list[tuple[str, dict[str, list[bytes]]]]:
    entries = services.client.search(services.client.base_dn, "(objectClass=*)", attributes=["*", "+"])
    return sorted((e.dn, e.attributes) for e in entries)


def test_cli_dry_run_writes_nothing_and_prints_json(services: Services, unit: Unit, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import_file(services, csv_file(people(unit, 1)))
    source = tmp_path / "staff.csv"
    changed = people(unit, 3)
    changed[0][3] = "Phó Trưởng phòng"
    source.write_bytes(csv_file([*changed, ["", "Không Mã", unit.code]]))
    before = everything(services)
    jobs_before = sorted(services.imports.jobs_dir.iterdir())
    result = invoke(services, monkeypatch, "import", str(source), "--dry-run", "--json")
    assert result.exit_code == 2, result.output  # rows with errors
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"create": 2, "update": 1, "move": 0, "retire": 0, "unchanged": 0, "error": 1}
    assert summary["errors"][0]["line"] == 5 and summary["errors"][0]["column"] == "1"
    assert everything(services) == before
    assert sorted(services.imports.jobs_dir.iterdir()) == jobs_before


def test_cli_import_status_undo_and_template(services: Services, unit: Unit, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "staff.csv"
    source.write_bytes(csv_file(people(unit, 2)))
    report = tmp_path / "out.csv"
    result = invoke(services, monkeypatch, "import", str(source), "--report", str(report), "--json")
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)["job"]
    assert len(results(report)) == 2
    again = invoke(services, monkeypatch, "import", str(source), "--report", str(report))
    assert again.exit_code == 2 and "exists" in again.output  # never overwritten
    exported = invoke(services, monkeypatch, "export", "--unit", unit.code, "--format", "yaml")
    assert exported.exit_code == 0 and exported.stdout_bytes.startswith(b"units:")
    assert services.imports.preview(exported.stdout_bytes, "export.yaml").plan.counts()["unchanged"] == 2
    status = invoke(services, monkeypatch, "import", "status", job, "--json")
    assert json.loads(status.stdout)["counts"]["create"] == 2
    undone = invoke(services, monkeypatch, "import", "undo", job)
    assert undone.exit_code == 0 and "undone: 2" in undone.output, undone.output
    assert state_of(services, unit) == {}
    template = invoke(services, monkeypatch, "import", "template")
    assert template.stdout_bytes.startswith(b"\xef\xbb\xbfM\xc3\xa3 nh\xc3\xa2n s\xe1\xbb\xb1 (HR id)")
    missing = invoke(services, monkeypatch, "import", "status", "../../etc")
    assert missing.exit_code == 3


def invoke(services: Services, monkeypatch: pytest.MonkeyPatch, *args: str, input: bytes | None = None) -> Result:
    """The real click group, in-process, on the session directory."""
    settings = services.settings
    monkeypatch.setenv("MAILADMIN_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("MAILADMIN_SLAPD_PORT", str(settings.slapd.port))
    return CliRunner().invoke(main, list(args), input=input)


def test_cli_reads_yaml_from_stdin_and_refuses_oversized_files(services: Services, unit: Unit,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    yaml_text = f"units:\n  {unit.code}:\n    - {{hr_id: {unit.code}-y, full_name: Đỗ Thị Yến, phone: '0905123456'}}\n"
    result = invoke(services, monkeypatch, "import", "-", "--json", input=yaml_text.encode())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["create"] == 1
    assert [m.phone for m in services.imports.export(unit.code)] == ["0905123456"]
    monkeypatch.setenv("MAILADMIN_IMPORTS_MAX_FILE_MIB", "1")
    huge = invoke(services, monkeypatch, "import", "-", "--dry-run", input=b"x" * (1024 * 1024 + 1))
    assert huge.exit_code == 2 and "imports.max_file_mib" in huge.output
