"""Who may do what: roles and unit scopes, checked on the server side for every use case."""

from __future__ import annotations

from dataclasses import dataclass

from mailadmin.errors import PermissionDenied
from mailadmin.i18n import Text, t
from mailadmin.model import Role, Status, Unit

UnitPath = tuple[str, ...]


@dataclass(frozen=True)
class Rights:
    """What a mailbox's owner may do in mailadmin: roles and the unit subtrees they hold them over."""

    roles: frozenset[Role] = frozenset()
    scopes: tuple[UnitPath, ...] = ()

    @property
    def any(self) -> bool:
        """True if the owner holds any role at all."""
        return bool(self.roles)


NO_RIGHTS = Rights()


@dataclass(frozen=True)
class Principal:
    """A logged-in person with their roles and the unit subtrees they administer."""

    uid: str
    full_name: str
    roles: frozenset[Role]
    scopes: tuple[tuple[str, ...], ...] = ()
    second_factor: bool = False  # enrolled a second factor (not: this session passed it)
    certificate_factor: bool = False  # a bound certificate signs them in (auth.certificate_sign_in), see web/guard.py

    @property
    def is_admin(self) -> bool:
        """May change mailboxes somewhere."""
        return bool(self.roles & {Role.SUPERADMIN, Role.UNITADMIN})

    def has(self, *roles: Role) -> bool:
        """True if the person holds any of `roles`."""
        return bool(self.roles & set(roles))

    def covers(self, unit: Unit) -> bool:
        """True if `unit` lies inside one of this person's subtrees (super admins cover all)."""
        if Role.SUPERADMIN in self.roles:
            return True
        return any(unit.path[: len(scope)] == scope for scope in self.scopes)

    def may_read(self, unit: Unit) -> bool:
        """Auditors and super admins read everything; others what they administer."""
        return Role.AUDITOR in self.roles or self.covers(unit)

    def may_manage(self, unit: Unit) -> bool:
        """Change mailboxes, lists and sub-units of `unit`."""
        return self.has(Role.SUPERADMIN) or (self.has(Role.UNITADMIN) and self.covers(unit))

    def may_reorganise(self) -> bool:
        """Reorganisations change the whole tree: super admins only."""
        return self.has(Role.SUPERADMIN)

    def may_import(self, unit: Unit) -> bool:
        """Run imports touching `unit`."""
        return self.may_manage(unit) or (self.has(Role.HR) and self.covers(unit))

    def _covers_path(self, path: UnitPath) -> bool:
        return Role.SUPERADMIN in self.roles or any(path[: len(scope)] == scope for scope in self.scopes)

    def holds(self, rights: Rights) -> bool:
        """True if every right in `rights` is inside this person's own (nobody acts on a wider holder).

        Super admins hold everything; an auditor reads every unit, which only a super admin does too;
        a unit admin's or HR officer's scopes must each lie inside a subtree this person manages (for
        unit admins) or may import into (for HR officers).
        """
        if self.has(Role.SUPERADMIN):
            return True
        if rights.roles & {Role.SUPERADMIN, Role.AUDITOR}:
            return False
        needed = Role.UNITADMIN if Role.UNITADMIN in rights.roles else Role.HR
        may = self.has(Role.UNITADMIN) or (needed is Role.HR and self.has(Role.HR))
        return not rights.any or (may and all(self._covers_path(scope) for scope in rights.scopes))

    def must_enrol(self, second_factor_roles: frozenset[Role]) -> bool:
        """True if a role of this person requires a second factor they have not enrolled yet."""
        return bool(self.roles & second_factor_roles) and not (self.second_factor or self.certificate_factor)

    def may_issue_api_token(self, passed_second_factor: bool, second_factor_roles: frozenset[Role]) -> bool:
        """People with a role; only in a session that passed the second factor if they have or need one."""
        needs = self.second_factor or self.certificate_factor or bool(self.roles & second_factor_roles)
        return bool(self.roles) and (passed_second_factor or not needs)

    def signs_in_with_certificate_alone(self, certificate_only_roles: frozenset[Role]) -> bool:
        """True if a role of this person swaps the web password for the certificate (auth.certificate_only_roles)."""
        return bool(self.roles & certificate_only_roles)

    def is_self(self, uid: str) -> bool:
        """True if `uid` is this person's own mailbox (uids compare without case)."""
        return uid.lower() == self.uid.lower()

    def may_reset_second_factor(self, uid: str = "") -> bool:
        """Reset another person's second factor: super admins (and the target through authorize_change).

        `uid`: the target ("" when a page only asks whether the person resets anyone's). Never one's own:
        that is turning it off, which needs a code (a session left open must not hand it to a new phone).
        """
        return self.has(Role.SUPERADMIN) and not self.is_self(uid)

    def may_reset_password(self, uid: str) -> bool:
        """Give a mailbox a one-time password (the target through authorize_change). Never one's own: the
        reset ends one's sessions before the page showing it, a lockout; one's own is changed at /password."""
        return not self.is_self(uid)

    def may_lock_out(self, uid: str) -> bool:
        """Suspend or retire a mailbox, alone or in bulk (the target through authorize_change). Never one's own:
        it ends one's own session (mid-job in bulk) and leaves one unable to sign in again."""
        return not self.is_self(uid)

    def may_see_job(self, owner: str) -> bool:
        """See an import or bulk job (and resume or undo it, rights re-checked): its owner and super admins."""
        return owner == self.uid or self.has(Role.SUPERADMIN)

    def may_act_on(self, unit: Unit, rights: Rights) -> bool:
        """Change a mailbox in `unit` whose owner holds `rights`: the unit AND the owner's roles count."""
        return self.may_manage(unit) and self.holds(rights)

    def may_import_over(self, unit: Unit, rights: Rights) -> bool:
        """Let an import row change a mailbox in `unit` whose owner holds `rights`."""
        return self.may_import(unit) and self.holds(rights)


def wider_rights_message(uid: str) -> Text:
    """Why a mailbox may not be touched: its owner holds rights this person does not."""
    return t("Tài khoản {uid} giữ quyền quản trị rộng hơn quyền của bạn; chỉ người có quyền bao trùm mới được "
             "thay đổi tài khoản này",
             "the account {uid} holds administrative rights beyond yours; only someone whose rights cover them "
             "may change it", uid=uid)


def require_holds(person: Principal, uid: str, rights: Rights) -> None:
    """Raise PermissionDenied unless `person` holds every right of the mailbox `uid`'s owner."""
    if not person.holds(rights):
        raise PermissionDenied(wider_rights_message(uid))


def require_password_reset(person: Principal, uid: str) -> None:
    """Raise PermissionDenied for a reset of one's own password, pointing to /password."""
    if not person.may_reset_password(uid):
        raise PermissionDenied(t("Không thể đặt lại mật khẩu của chính bạn ở đây: hãy đổi mật khẩu tại /password "
                                 "(cần nhập mật khẩu hiện tại)",
                                 "your own password cannot be reset here: change it at /password (your current "
                                 "password is asked)"))


def require_status_change(person: Principal, uid: str, status: Status) -> None:
    """Raise PermissionDenied for suspending or retiring one's own mailbox (web page, API; bulk leaves it out)."""
    if status is not Status.ACTIVE and not person.may_lock_out(uid):
        raise PermissionDenied(own_lock_out_message())


def own_lock_out_message() -> Text:
    """Why one's own mailbox is neither suspended nor retired."""
    return t("Không thể tạm khóa hoặc cho thôi sử dụng hộp thư của chính bạn: việc đó kết thúc phiên làm việc và "
             "bạn không đăng nhập lại được; hãy nhờ một quản trị viên khác",
             "your own mailbox cannot be suspended or retired: that would end your session and you could not sign "
             "in again; ask another administrator")


def require(allowed: bool, unit: Unit | None = None) -> None:
    """Raise PermissionDenied unless `allowed`."""
    if allowed:
        return
    if unit is None:
        raise PermissionDenied(t("Bạn không có quyền thực hiện thao tác này",
                                 "you are not allowed to do this"))
    raise PermissionDenied(t("Bạn không có quyền với đơn vị {name} ({code})",
                             "you have no rights on the unit {name} ({code})", name=unit.name, code=unit.code))
