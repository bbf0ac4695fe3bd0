"""Admin actions on a tenant's staff: accounts, their TOTP authenticators and single-use codes.

Taking access away (disable, delete, reset) ends the staff member's live sessions at once.
"""

from __future__ import annotations

import dataclasses

from relay.admin.errors import ErrorCode, NotFoundError
from relay.admin.services.backend import Backend, Record, Scope
from relay.store.inputs import canonical_login
from relay.store.staff import User


class StaffService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def all_of(
        self, tenant: str, *, after: str | None = None, limit: int | None = None
    ) -> list[User]:
        """The tenant's staff by login (a page of them: see :mod:`relay.admin.paging`)."""
        return await self.backend.db(self.directory.list_users, tenant, after=after, limit=limit)

    async def get(self, tenant: str, login: str) -> User:
        user = await self.backend.db(self.directory.get_user, tenant, login)
        if user is None:
            raise NotFoundError("no such staff member", ErrorCode.NO_SUCH_STAFF)
        return user

    async def details(self, tenant: str, login: str) -> tuple[User, int, list[str]]:
        """The staff member, their unused single-use codes and the office PCs they may use."""
        user = await self.get(tenant, login)
        codes = await self.backend.db(self.directory.unused_code_count, tenant, user.login)
        hosts = await self.backend.db(self.directory.hosts_affected_by_user, tenant, user.login)
        return user, codes, hosts

    async def add(
        self, scope: Scope, login: str, *, full_name: str = "", department: str = ""
    ) -> tuple[User, str]:
        """The new staff member and their TOTP secret (shown once)."""
        login = canonical_login(login)
        return await self.backend.change(
            scope,
            Record("staff_add", user=login),
            self.directory.add_user,
            scope.tenant,
            login,
            full_name=full_name,
            department=department,
            now=self.backend.clock(),
        )

    async def set_names(
        self,
        scope: Scope,
        login: str,
        *,
        full_name: str | None = None,
        department: str | None = None,
    ) -> User:
        """Change the staff member's full name and/or department (None: as it is). The record
        names the fields changed, not their values: the audit log (and the syslog copies of it)
        keeps no more personal data than it needs."""
        user = await self.get(scope.tenant, login)
        fields = [
            name
            for name, value in (("full_name", full_name), ("department", department))
            if value is not None
        ]
        return await self.backend.change(
            scope,
            Record("staff_names", user=user.login, detail={"fields": fields}),
            self.directory.set_user_names,
            scope.tenant,
            user.login,
            full_name=full_name,
            department=department,
        )

    async def set_disabled(self, scope: Scope, login: str, disabled: bool) -> User:
        """The staff member as they are now; disabling ends their live sessions."""
        user = await self.get(scope.tenant, login)
        args = (self.directory.set_user_disabled, scope.tenant, user.login, disabled)
        if disabled:
            await self.backend.take_access(scope, "staff_disable", user.login, *args)
        else:
            await self.backend.change(scope, Record("staff_enable", user=user.login), *args)
        return dataclasses.replace(user, disabled=disabled)

    async def delete(self, scope: Scope, login: str) -> None:
        user = await self.get(scope.tenant, login)
        hosts = await self.backend.db(
            self.directory.hosts_affected_by_user, scope.tenant, user.login
        )
        await self.backend.take_access(
            scope, "staff_delete", user.login, self.directory.delete_user, scope.tenant, user.login
        )
        await self.backend.push_policies(hosts)  # their home PCs leave those lists

    async def new_totp(self, scope: Scope, login: str) -> tuple[User, str]:
        """A new TOTP secret for the staff member (the old one stops working)."""
        user = await self.get(scope.tenant, login)
        secret = await self.backend.change(
            scope,
            Record("staff_totp", user=user.login),
            self.directory.reset_totp,
            scope.tenant,
            user.login,
        )
        return user, secret

    async def issue_codes(self, scope: Scope, login: str, count: int) -> tuple[User, list[str]]:
        """``count`` new single-use codes for the staff member (replacing unused ones)."""
        user = await self.get(scope.tenant, login)
        codes = await self.backend.change(
            scope,
            Record("staff_codes", user=user.login, detail={"count": count}),
            self.directory.issue_codes,
            scope.tenant,
            user.login,
            count,
            now=self.backend.clock(),
        )
        return user, codes

    async def reset(self, scope: Scope, login: str) -> User:
        """Revoke the staff member's TOTP, unused codes and resume tickets."""
        user = await self.get(scope.tenant, login)
        await self.backend.take_access(
            scope,
            "staff_reset",
            user.login,
            self.directory.revoke_staff_credentials,
            scope.tenant,
            user.login,
        )
        return user
