"""Admin actions on the console's own admins: adding them with a role, disabling, enabling,
deleting, a new role, a new password or TOTP authenticator (shown once), ending their sign-ins.

Who may act on whom is decided here, for every action alike (:meth:`_target`): an operator on
any admin; a tenant admin on the admins of its own tenant only (any other admin, an operator
included, is "not found", as a tenant admin's view of another tenant is), and never giving a
role above its own (:data:`core.admin_api.GRANTABLE_ROLES`). Nobody deletes, disables or
changes the role of themself. The check, the change and its audit record are one transaction;
the store ends the admin's sign-ins in it (:mod:`relay.store.admins`), on every relay node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.admin_api import GRANTABLE_ROLES
from relay.admin.auth import AdminSession, Role
from relay.admin.errors import BadRequest, ErrorCode, Forbidden, NotFoundError
from relay.admin.services.backend import Backend
from relay.store.admins import Admin
from relay.store.inputs import canonical_login

T = TypeVar("T")


class AdminAccountService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def visible(self, who: AdminSession) -> list[Admin]:
        """The admins ``who`` may see: every one for an operator, else their tenant's."""
        tenant = None if who.role is Role.OPERATOR else who.tenant
        return await self.backend.db(self.directory.list_admins, tenant)

    async def add(
        self, who: AdminSession, source: str, login: str, role: str, tenant: str | None
    ) -> tuple[Admin, str, str]:
        """A new admin with ``role`` (of ``tenant``: a tenant admin's own if not given), their
        initial password and TOTP secret (shown once)."""
        wanted = self._grantable(who, Role(role))
        if who.role is not Role.OPERATOR and tenant is None:
            tenant = who.tenant
        if (wanted is Role.OPERATOR) != (tenant is None):
            raise BadRequest(
                "an operator has no tenant; every other admin belongs to one",
                ErrorCode.ROLE_TENANT_MISMATCH,
            )
        if tenant is not None:
            tenant = await self.backend.visible_tenant(who, tenant)
        login = canonical_login(login)

        def add_and_record() -> tuple[Admin, str, str]:
            added = self.directory.add_admin(login, tenant, role=wanted, now=self.backend.clock())
            self._record(who, source, "admin_add", added[0], role=wanted.value)
            return added

        return await self.backend.atomic(add_and_record)

    async def set_disabled(
        self, who: AdminSession, source: str, login: str, disabled: bool
    ) -> Admin:
        return await self._change(
            who,
            source,
            login,
            "admin_disable" if disabled else "admin_enable",
            lambda target: self.directory.set_admin_disabled(target, disabled),
            not_oneself=disabled,
        )

    async def set_role(self, who: AdminSession, source: str, login: str, role: str) -> Admin:
        wanted = self._grantable(who, Role(role))
        if wanted is Role.OPERATOR:
            raise BadRequest(
                "an admin of a tenant cannot become an operator, nor the reverse",
                ErrorCode.ROLE_TENANT_MISMATCH,
            )
        return await self._change(
            who,
            source,
            login,
            "admin_role",
            lambda target: self.directory.set_admin_role(target, wanted),
            not_oneself=True,
            detail_of=lambda _: {"role": wanted.value},
        )

    async def delete(self, who: AdminSession, source: str, login: str) -> Admin:
        return await self._change(
            who, source, login, "admin_delete", self.directory.delete_admin, not_oneself=True
        )

    async def reset_password(self, who: AdminSession, source: str, login: str) -> tuple[Admin, str]:
        return await self._change(
            who, source, login, "admin_password_reset", self.directory.reset_admin_password
        )

    async def reset_totp(self, who: AdminSession, source: str, login: str) -> tuple[Admin, str]:
        return await self._change(
            who, source, login, "admin_totp_reset", self.directory.reset_admin_totp
        )

    async def end_sign_ins(self, who: AdminSession, source: str, login: str) -> int:
        _, ended = await self._change(
            who,
            source,
            login,
            "admin_sign_out",
            self.directory.end_admin_sign_ins,
            detail_of=lambda result: {"sign_ins_ended": result[1]},
        )
        return ended

    # -- who may act on whom -------------------------------------------------------------------

    @staticmethod
    def _grantable(who: AdminSession, role: Role) -> Role:
        """``role``, if ``who`` may give it; :class:`Forbidden` if it is above their own."""
        if role not in GRANTABLE_ROLES[who.role]:
            raise Forbidden(
                f"the {who.role.value} role may not give the {role.value} role",
                ErrorCode.ROLE_TOO_HIGH,
                role=role.value,
            )
        return role

    def _target(self, who: AdminSession, login: str, *, not_oneself: bool) -> Admin:
        """(blocking) The admin ``login`` if ``who`` may act on them; :class:`NotFoundError`
        for one they may not see, :class:`Forbidden` for themself if ``not_oneself``."""
        target = self.directory.get_admin(login)
        if target is None or (who.role is not Role.OPERATOR and target.tenant != who.tenant):
            raise NotFoundError("no such admin", ErrorCode.NO_SUCH_ADMIN)
        if not_oneself and target.login == who.login:
            raise Forbidden(
                "an admin cannot delete or disable themself, nor change their own role",
                ErrorCode.ADMIN_SELF,
            )
        return target

    async def _change(
        self,
        who: AdminSession,
        source: str,
        login: str,
        event: str,
        change: Callable[[str], T],
        *,
        not_oneself: bool = False,
        detail_of: Callable[[T], dict[str, Any]] = lambda _: {},
    ) -> T:
        """``change(login as stored)`` on the admin ``login``, if ``who`` may act on them, and
        its audit record ``admin.<event>`` (with ``detail_of(result)``), in one transaction."""

        def check_change_and_record() -> T:
            target = self._target(who, login, not_oneself=not_oneself)
            result = change(target.login)
            self._record(who, source, event, target, **detail_of(result))
            return result

        return await self.backend.atomic(check_change_and_record)

    def _record(
        self, who: AdminSession, source: str, event: str, target: Admin, **detail: Any
    ) -> None:
        """(blocking) The record of ``event`` done to ``target``, under the target's tenant
        (none for an operator) so that the tenant's admins see it."""
        self.backend.record(
            who, event, source, tenant=target.tenant, detail={"target": target.login, **detail}
        )
