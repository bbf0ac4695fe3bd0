"""What the admin API does, apart from HTTP: sign-in, roles, tenant isolation, and the
per-resource services (:mod:`relay.admin.services`) over the directory and the live relay.

Tenant isolation is decided in one place, :meth:`AdminService.tenant`: a tenant admin naming
any tenant but their own gets the same "not found" as for a tenant that does not exist, and
every object is then looked up *within* that tenant (the store refuses another tenant's host,
user or registration as not found). Every change is written to the audit log with the admin's
login; secrets (passwords, TOTP seeds, codes, tokens) never are, nor are they logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core.auth.lockout import Attempt, Lockout, source_key
from core.auth.passwords import (
    MAX_PASSWORD_BYTES,
    MIN_CHOSEN_PASSWORD_CHARS,
    PasswordRule,
    chosen_password_problem,
)
from relay.admin.auth import ADMIN_TOKEN_TTL_S, AdminSession, AdminSessions, Role
from relay.admin.errors import (
    ApiError,
    BadRequest,
    ErrorCode,
    Forbidden,
    LockedOut,
    Unauthorized,
)
from relay.admin.hooks import tenant_shares
from relay.admin.monitor import MONITOR_INTERVAL_S, BandwidthMonitor
from relay.admin.services.admins import AdminAccountService
from relay.admin.services.audit_log import AuditLogService
from relay.admin.services.backend import Backend
from relay.admin.services.grants import GrantService
from relay.admin.services.home_pcs import HomePcService
from relay.admin.services.hosts import HostService
from relay.admin.services.monitoring import MonitoringService
from relay.admin.services.policies import PolicyService
from relay.admin.services.sessions import LiveSessionService
from relay.admin.services.signed_devices import SignedDeviceService
from relay.admin.services.staff import StaffService
from relay.admin.services.syslog import SyslogService
from relay.admin.services.tenants import TenantService
from relay.lockouts import ADMIN_KIND, ADMIN_SOURCE_KIND, LockoutSharing, SharedLockout
from relay.server import RelayServer
from relay.store.admins import Admin
from relay.store.inputs import account_key

T = TypeVar("T")


class AdminService:
    def __init__(
        self,
        server: RelayServer,
        clock: Callable[[], float] = time.time,
        monitor_interval_s: float = MONITOR_INTERVAL_S,
        token_ttl_s: float | None = None,
    ) -> None:
        self.server = server
        self.directory = server.directory
        self.clock = clock
        self.backend = Backend(server, clock)
        self.sessions = AdminSessions(
            self.directory,
            self.backend.db,
            clock,
            ADMIN_TOKEN_TTL_S if token_ttl_s is None else token_ttl_s,
        )
        # Shared with every relay node's admin API through the directory, like the tokens.
        self.lockouts = LockoutSharing(self.directory, self.backend.db, clock)
        self.login_lockout = SharedLockout(ADMIN_KIND, Lockout.per_user(clock))
        self.source_lockout = SharedLockout(ADMIN_SOURCE_KIND, Lockout.per_source(clock))
        self.monitor = BandwidthMonitor(server, wall_clock=clock)
        self.tenants = TenantService(self.backend)
        self.staff = StaffService(self.backend)
        self.hosts = HostService(self.backend)
        self.grants = GrantService(self.backend)
        self.home_pcs = HomePcService(self.backend)
        self.policies = PolicyService(self.backend)
        self.live_sessions = LiveSessionService(self.backend, self.monitor)
        self.monitoring = MonitoringService(self.backend, self.monitor, monitor_interval_s)
        self.audit_log = AuditLogService(self.backend)
        self.syslog = SyslogService(self.backend)
        self.admins = AdminAccountService(self.backend)
        # The operations each role may call, by name (the route table's, set by the server).
        self.operations: dict[Role, frozenset[str]] = {}
        self.signed_devices = SignedDeviceService(self.backend)
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start sampling bandwidth; from now on the relay's share hook follows the caps."""
        shares = tenant_shares(self.server.hooks)
        self.monitor.limits = await self.backend.db(self.directory.all_bandwidth_limits)
        shares.follow(self.monitor)
        self.monitor.apply_caps()
        self._task = asyncio.create_task(self.monitoring.run())

    async def close(self) -> None:
        self.backend.reports.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- who may do what -----------------------------------------------------------------------

    async def tenant(self, who: AdminSession, name: str) -> str:
        """The tenant's name as stored, if ``who`` may see it; else :class:`NotFoundError`."""
        return await self.backend.visible_tenant(who, name)

    def permit(self, who: AdminSession, roles: frozenset[Role]) -> None:
        """:class:`Forbidden` unless ``who``'s role is one of ``roles`` (a route's)."""
        if who.role in roles:
            return
        if roles == {Role.OPERATOR}:
            raise Forbidden("only a relay operator may do this", ErrorCode.OPERATOR_ONLY)
        raise Forbidden(
            f"the {who.role.value} role may not do this"
            + (" (it only reads)" if who.role is Role.AUDITOR else ""),
            ErrorCode.ROLE_NOT_ALLOWED,
            role=who.role.value,
        )

    def session_info(self, session: AdminSession) -> dict[str, Any]:
        """Who a sign-in is, and the operations (the route handlers' names) their role may
        call: the console shows only what these allow."""
        return {
            "login": session.login,
            "role": session.role.value,
            "tenant": session.tenant,
            "expires_at": session.expires_at,
            "allowed": sorted(self.operations.get(session.role, ())),
        }

    # -- sign-in -------------------------------------------------------------------------------

    async def sign_in(self, login: str, password: str, otp: str, source: str) -> dict[str, Any]:
        admin = await self._counted(
            login,
            source,
            # The TOTP step it uses up and the record of the outcome commit together.
            lambda: self.backend.atomic(self._authenticate, login, password, otp, source),
            Unauthorized("wrong login, password or one-time password", ErrorCode.SIGN_IN_FAILED),
        )
        token, session = await self.sessions.open(admin.login, admin.tenant, admin.role)
        return {"token": token, **self.session_info(session)}

    async def _counted(
        self,
        login: str,
        source: str,
        check: Callable[[], Awaitable[T | None]],
        refusal: ApiError,
    ) -> T:
        """What ``check()`` found (a password checked), counted against the admin lockouts:
        :class:`LockedOut` if ``login`` or ``source`` is locked out, or this failure locks
        them; ``refusal`` if ``check()`` found nothing (None)."""
        # One count however the login is typed, and per IPv6 /64; counted while in flight, so
        # a burst of parallel guesses cannot all be checked before the first failure counts;
        # the failures and locks are those of every relay node.
        login_key = account_key(login)
        counted_by = (
            (self.source_lockout, source_key(source)),
            (self.login_lockout, login_key),
        )
        source_count, login_count = await self.lockouts.shared_counts(*counted_by)
        attempt = Attempt(*((lockout.local, key) for lockout, key in counted_by))
        retry_at = attempt.begin([source_count.failures, login_count.failures])
        if retry_at is not None:
            raise LockedOut("too many failed attempts; try again later", _retry(retry_at, self))
        try:
            found = await check()
        except BaseException:
            attempt.end(failed=False)  # no answer (an error, a cancellation): nothing to count
            raise
        until = attempt.end(failed=found is None)
        if found is None:
            until = await self.lockouts.failed(counted_by, until)
            if until is not None:
                raise LockedOut("too many failed attempts; try again later", _retry(until, self))
            raise refusal
        await self.lockouts.succeeded(self.login_lockout, login_key, login_count)
        return found

    async def change_password(
        self, who: AdminSession, token: str, current: str, new: str, source: str
    ) -> dict[str, Any]:
        """Give the signed-in admin ``who`` the password ``new`` (by the rules of
        :func:`chosen_password_problem`) if ``current`` is theirs; a wrong ``current`` counts
        against the lockouts as a failed sign-in does (a token left open is not a way to guess
        the password). Every other sign-in of theirs ends, on every node; this one stays."""
        problem = chosen_password_problem(new)
        if problem is PasswordRule.TOO_SHORT:
            raise BadRequest(
                f"a new password has at least {MIN_CHOSEN_PASSWORD_CHARS} characters",
                ErrorCode.PASSWORD_TOO_SHORT,
                minimum=MIN_CHOSEN_PASSWORD_CHARS,
            )
        if problem is PasswordRule.TOO_LONG:
            raise BadRequest(
                f"a new password has at most {MAX_PASSWORD_BYTES} bytes",
                ErrorCode.PASSWORD_TOO_LONG,
                maximum=MAX_PASSWORD_BYTES,
            )
        if problem is PasswordRule.NOT_TEXT:
            raise BadRequest(
                "a new password must not contain control or invisible characters",
                ErrorCode.PASSWORD_NOT_TEXT,
            )
        if unicodedata.normalize("NFKC", new) == unicodedata.normalize("NFKC", current):
            raise BadRequest("the new password is the current one", ErrorCode.PASSWORD_UNCHANGED)

        def change() -> bool | None:
            changed = self.directory.change_admin_password(who.login, current, new)
            if not changed:
                self.backend.record(who, "password_change_refused", source, tenant=who.tenant)
            return changed or None

        await self._counted(
            who.login,
            source,
            lambda: self.backend.atomic(change),
            Forbidden("the current password is wrong", ErrorCode.PASSWORD_WRONG),
        )
        ended = await self.sessions.close_others(who.login, token)
        await self.backend.audit(
            who, "password_change", source, tenant=who.tenant, detail={"sign_ins_ended": ended}
        )
        return {"sign_ins_ended": ended}

    def _authenticate(self, login: str, password: str, otp: str, source: str) -> Admin | None:
        """(blocking) The admin if the sign-in is right, and its audit record: ``admin.login``,
        or ``admin.login_refused`` naming the login as typed."""
        admin = self.directory.authenticate_admin(login, password, otp, self.clock())
        if admin is None:
            self.directory.audit(
                "admin.login_refused",
                source=source,
                detail={"admin": login[:64]},
                now=self.clock(),
            )
        else:
            self.directory.audit(
                "admin.login",
                tenant=admin.tenant,
                source=source,
                detail={"admin": admin.login},
                now=self.clock(),
            )
        return admin

    async def sign_out(self, who: AdminSession, token: str, source: str) -> None:
        """End the sign-in of ``token`` (the admin ``who``'s) and audit it."""
        await self.sessions.close(token)
        await self.backend.audit(who, "logout", source, tenant=who.tenant)


def _retry(until: float, service: AdminService) -> int:
    return max(1, int(until - service.clock()) + 1)
