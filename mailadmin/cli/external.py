"""`mailadmin directory prepare --external` and `directory check`: an existing cn=config OpenLDAP."""

from __future__ import annotations

import click

from mailadmin.cli import Context, pass_context
from mailadmin.cli.output import print_json
from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.olc import ConfigConnection
from mailadmin.errors import InvalidInput
from mailadmin.i18n import Text, t
from mailadmin.olcsource import replication_ldif
from mailadmin.services.external import Item, Plan, apply, live_items, plan_external
from mailadmin.settings import Settings
from mailadmin.smtp.config import mailserver_directory

URI_HELP = ("Socket ldapi:// của slapd, SASL EXTERNAL với quyền root / "
            "slapd's ldapi:// socket (SASL EXTERNAL as root).")
PREPARE = t("chạy với quyền root trên máy chủ LDAP: mailadmin directory prepare --external (hoặc --print-ldif "
            "| ldapmodify -Y EXTERNAL -H ldapi:///)", "as root on the LDAP server: mailadmin directory prepare "
            "--external (or --print-ldif | ldapmodify -Y EXTERNAL -H ldapi:///)")
FIXES = {
    "mailserver-reads": t("quy tắc olcAccess của mailadmin phải đứng trước các quy tắc khác (như `to * by * read` "
                          "của Debian): mailadmin directory prepare --external",
                          "mailadmin's olcAccess rules must come before the others (such as Debian's "
                          "`to * by * read`): mailadmin directory prepare --external"),
    "monitor-reads": t("cần cơ sở dữ liệu monitor (back_monitor) và quyền đọc của tài khoản dịch vụ: "
                       "mailadmin directory prepare --external",
                       "needs the monitor database (back_monitor) readable by the service account: "
                       "mailadmin directory prepare --external"),
}


def fix_of(item: Item) -> Text:
    """How to fix a missing item."""
    return FIXES.get(item.key, PREPARE)


def external_settings(context: Context) -> Settings:
    """The settings, refused when they name no external directory (ldap.uris empty)."""
    if context.settings.embedded_directory:
        raise InvalidInput(t("ldap.uris trống: thư mục riêng tự cấu hình khi `mailadmin directory start`; "
                             "đặt ldap.uris, ldap.bind_dn và smtp.bind_dn cho máy chủ sẵn có",
                             "ldap.uris is empty: the private directory configures itself at `mailadmin "
                             "directory start`; set ldap.uris, ldap.bind_dn and smtp.bind_dn for an existing server"))
    return context.settings


def show_item(item: Item, verb: str = "THIẾU / MISSING") -> None:
    """One line per item: OK, or what is missing."""
    if item.ok:
        click.echo(f"OK       {item.vi} / {item.en}")
    else:
        click.echo(f"{verb}: {item.vi} / {item.en}: {'; '.join(item.missing)}")


def warn_shadowed(plan: Plan) -> None:
    """Other applications' rules that mailadmin's access rules now come before."""
    if not plan.shadowed or all(item.ok for item in plan.items if item.key == "access"):
        return
    warning = t("Cảnh báo: các quy tắc truy cập sẵn có sau đây nay đứng sau quy tắc của mailadmin và không còn "
                 "áp dụng cho các mục dưới gốc; nếu ứng dụng khác dùng chung máy chủ này, thêm quyền cho chúng "
                 "(`by dn=… read`) vào quy tắc của mailadmin:",
                 "Warning: these existing access rules now come after mailadmin's and no longer apply to "
                 "entries below the base; if other applications share this server, give them their own "
                 "`by dn=… read` clauses in mailadmin's rules:")
    click.echo(f"{warning.render('vi')}\n{warning.render('en')}", err=True)
    for rule in plan.shadowed:
        click.echo(f"  olcAccess: {rule}", err=True)


def show_ldif(plan: Plan) -> None:
    """The changes as LDIF for `ldapmodify -Y EXTERNAL -H ldapi:///` (a comment when none)."""
    click.echo("# mailadmin directory prepare --external --print-ldif\n"
               "# ldapmodify -Y EXTERNAL -H ldapi:/// -f FILE\n")
    for change in plan.changes:
        click.echo(change.ldif(), nl=False)
    if not plan.changes:
        click.echo("# Không có gì cần thay đổi / nothing to change")


@click.command("prepare")
@click.option("--external", is_flag=True, help="Máy chủ OpenLDAP sẵn có (cn=config) / an existing cn=config server.")
@click.option("--print-ldif", is_flag=True, help="In LDIF thay vì ghi / print LDIF instead of applying it.")
@click.option("--config-uri", default="ldapi:///", show_default=True, help=URI_HELP)
@pass_context
def prepare(context: Context, external: bool, print_ldif: bool, config_uri: str) -> None:
    """Make an existing OpenLDAP ready: schema, modules, overlays, indexes, ACLs, accounts, policies."""
    if not external:
        raise InvalidInput(t("Thư mục riêng tự chuẩn bị khi `mailadmin directory start`; dùng --external "
                             "cho máy chủ sẵn có", "the private directory prepares itself at `mailadmin directory "
                             "start`; use --external for an existing server"))
    settings = external_settings(context)
    connection = ConfigConnection(config_uri)
    try:
        plan = plan_external(settings, connection)
        if print_ldif:
            show_ldif(plan)
            click.echo(replication_ldif(settings), nl=False)
            return
        written = apply(connection, plan.items, lambda item: show_item(item, "ĐÃ SỬA / FIXED"))
    finally:
        connection.close()
    warn_shadowed(plan)
    done = t("{n} thay đổi đã ghi", "{n} changes written", n=written)
    unchanged = t("Không có gì thay đổi: máy chủ đã sẵn sàng", "Nothing changed: the server is ready")
    click.echo((done if written else unchanged).both())
    if replication_ldif(settings):
        click.echo(t("Nhân bản (slapd.peers): xem và áp dụng bằng --print-ldif | ldapmodify -Y EXTERNAL -H ldapi:///",
                     "replication (slapd.peers): review and apply it with --print-ldif | ldapmodify -Y EXTERNAL "
                     "-H ldapi:///").both(), err=True)



@click.command("check")
@click.option("--config-uri", default="ldapi:///", show_default=True, help=URI_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def check(context: Context, config_uri: str, as_json: bool) -> None:
    """Verify an existing OpenLDAP against what mailadmin needs; exit code 1 when something is missing."""
    settings = external_settings(context)
    connection = ConfigConnection(config_uri)
    try:
        items = plan_external(settings, connection).items
    finally:
        connection.close()
    mailserver = DirectoryClient(mailserver_directory(settings))
    try:
        items += live_items(context.services.client, mailserver)
    finally:
        mailserver.close()
    missing = [item for item in items if not item.ok]
    if as_json:
        print_json({"ok": not missing, "items": [_with_fix(item) for item in items]})
    else:
        for item in items:
            show_item(item)
            if not item.ok:
                click.echo(f"         sửa: {fix_of(item).render('vi')}\n         fix: {fix_of(item).render('en')}")
        click.echo(t("Máy chủ đã sẵn sàng", "The server is ready").both() if not missing else
                   t("{n} mục thiếu", "{n} items missing", n=len(missing)).both())
    if missing:
        raise SystemExit(1)


def _with_fix(item: Item) -> dict[str, object]:
    data = item.as_dict()
    if not item.ok:
        data.update(fix=fix_of(item).render("en"), fix_vi=fix_of(item).render("vi"))
    return data
