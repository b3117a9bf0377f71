"""`mailadmin cert bind|unbind|show|whois|expiring|bind-folder`: officials' certificates."""

from __future__ import annotations

from pathlib import Path

import click

from mailadmin.certs.records import Expiring
from mailadmin.cli import pass_services
from mailadmin.cli.output import print_json, print_table
from mailadmin.errors import InvalidInput, NotFound
from mailadmin.i18n import Text, current_language, t
from mailadmin.services.certificates import BoundCertificate, BulkPlan
from mailadmin.services.reminders import CertificateReminders
from mailadmin.wiring import Services

MAX_READ = 1024 * 1024  # far above any certificate; load_certificates gives the precise limit


@click.group("cert")
def cert() -> None:
    """Chứng thư số / certificates bound to mailboxes."""


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_READ + 1)
    except OSError as error:
        raise InvalidInput(t("Không đọc được tệp {path}: {reason}", "cannot read the file {path}: {reason}",
                             path=path, reason=error.strerror or str(error))) from None


def _say(message: Text) -> str:
    return message.render(current_language())


def _print_certificates(items: list[BoundCertificate], as_json: bool) -> None:
    if as_json:
        print_json([item.record() for item in items])
        return
    for item in items:
        print_table(["Trường / field", "Giá trị / value"], [(k, v) for k, v in item.record().items()])


@cert.command()
@click.argument("uid")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_services
def bind(services: Services, uid: str, file: str, as_json: bool) -> None:
    """Validate FILE (PEM, DER, .cer/.crt, .p7b) and bind its certificate to UID."""
    bound, warnings = services.certificates.bind(uid, _read(file))
    for warning in warnings:
        click.echo(f"Cảnh báo / warning: {_say(warning)}", err=True)
    if as_json:
        print_json(bound.record())
        return
    click.echo(f"Đã gắn / bound: {bound.info.fingerprint_sha256} → {bound.uid} ({bound.info.subject})")


@cert.command()
@click.argument("uid")
@click.argument("fingerprint")
@pass_services
def unbind(services: Services, uid: str, fingerprint: str) -> None:
    """Remove the certificate with this SHA-256 FINGERPRINT from UID."""
    removed = services.certificates.unbind(uid, fingerprint)
    click.echo(f"Đã gỡ / unbound: {removed.info.fingerprint_sha256} ← {removed.uid}")


@cert.command()
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def show(services: Services, uid: str, as_json: bool) -> None:
    """Every certificate bound to UID with its status (valid, expiring, expired, revoked)."""
    items = services.certificates.show(uid)
    if not items and not as_json:
        click.echo(f"{uid}: không có chứng thư số / no certificate")
        return
    _print_certificates(items, as_json)


@cert.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_services
def whois(services: Services, file: str, as_json: bool) -> None:
    """The account the certificate in FILE is bound to (exit code 3 when none)."""
    owners = services.certificates.whois(_read(file))
    if not owners:
        raise NotFound(t("Chứng thư số này chưa gắn với tài khoản nào", "no account holds this certificate"))
    if as_json:
        print_json([owner.record() for owner in owners])
        return
    print_table(["uid", "Họ tên / name", "mail", "Đơn vị / unit", "Tìm theo / matched by"],
                [(o.uid, o.name, o.mail, o.unit_code, ", ".join(o.matched_by)) for o in owners])


@cert.command()
@click.option("--days", type=click.IntRange(0, 3650), default=None,
              help="Horizon in days (default: certificates.expiring_days).")
@click.option("--all", "include_renewed", is_flag=True, help="Also those already renewed by a newer certificate.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--notify", is_flag=True, help="Also mail a reminder to each owner and their unit admins.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the reminder mails.")
@click.option("--force", is_flag=True, help="With --notify: mail every one, even if already reminded at this stage.")
@pass_services
def expiring(services: Services, days: int | None, include_renewed: bool, as_json: bool, notify: bool,
             lang: str, force: bool) -> None:
    """Bound certificates that expire within N days (or have expired), soonest first.

    With --notify, each owner (and their unit admins) gets one mail per stage: within
    certificates.reminder_days (30, 14, 7, 1) and N days of expiry, and once expired.
    """
    horizon = services.settings.certificates.expiring_days if days is None else days
    found = services.certificates.expiring(horizon, include_renewed=include_renewed)
    if notify:
        _remind(services, found, lang, horizon, force)
    if as_json:
        print_json([item.record() for item in found])
        return
    print_table(["uid", "Họ tên / name", "Đơn vị / unit", "Hết hạn / expires", "Còn / days", "Trạng thái / status",
                 "Quản trị / admins"],
                [(e.owner.uid, e.owner.name, e.unit_code, e.certificate.info.not_after.date(), e.days_left,
                  e.certificate.status, ", ".join(a.uid for a in e.admins)) for e in found])


def _remind(services: Services, found: list[Expiring], language: str, horizon: int, force: bool) -> None:
    """The reminder mails that are due; what was sent or skipped goes to stderr (stdout stays the report)."""
    reminders = CertificateReminders(services.settings, services.notifier, services.audit)
    for done in reminders.remind(found, lambda code: services.units.get(code).name, language, horizon=horizon,
                                 force=force):
        if done.recipients:
            click.echo(f"→ {', '.join(done.recipients)}", err=True)
        else:
            click.echo(f"= {done.item.owner.uid}: đã nhắc ở mốc / already reminded at {done.stage} "
                       "ngày / days", err=True)


@cert.command("bind-folder")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show the per-file plan; write nothing.")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def bind_folder(services: Services, source: Path, dry_run: bool, as_json: bool) -> None:
    """Bind every certificate of a folder or zip to the mailbox named by the mail inside it."""
    plan = services.certificates.plan_folder(source)
    if not dry_run:
        plan = services.certificates.apply(plan)
    _report(plan, as_json)
    if plan.count("error") or plan.count("failed"):
        raise SystemExit(1)


def _report(plan: BulkPlan, as_json: bool) -> None:
    language = current_language()
    if as_json:
        print_json({"source": plan.source, "applied": plan.applied, "ignored": plan.ignored,
                    "files": [row.record(language) for row in plan.rows]})
        return
    print_table(["Tệp / file", "Kết quả / outcome", "uid", "Ghi chú / notes"],
                [(row.file, row.outcome, row.uid, " ".join(m.render(language) for m in row.messages))
                 for row in plan.rows])
    state = "đã ghi / applied" if plan.applied else "chạy thử, chưa ghi gì / dry run, nothing written"
    counts = ", ".join(f"{name}: {plan.count(name)}" for name in ("bind", "bound", "skip", "error", "failed")
                       if plan.count(name))
    click.echo(f"{state} — {counts or 'no file'}; ignored: {len(plan.ignored)}")
