"""What the admin API does, apart from HTTP: sign-in, roles, tenant isolation, the actions on
the directory and the live relay, policy pushes, bandwidth monitoring and its alerts.

Tenant isolation is decided in one place, :meth:`AdminService.tenant`: a tenant admin naming
any tenant but their own gets the same "not found" as for a tenant that does not exist, and
every object is then looked up *within* that tenant (the store refuses another tenant's host,
user or registration as not found). Every change is written to the audit log with the admin's
login; secrets (passwords, TOTP seeds, codes, tokens) never are, nor are they logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from core.auth.lockout import Attempt, Lockout, source_key
from core.auth.totp import provisioning_uri
from core.crypto.certs import format_host_id
from core.protocol.notices import CloseReason
from relay.admin.auth import AdminSession, AdminSessions, Role
from relay.admin.errors import Forbidden, LockedOut, NotFoundError, Unauthorized
from relay.admin.monitor import MONITOR_INTERVAL_S, AlertEvent, BandwidthMonitor
from relay.admin.usage import SESSION_LOOKBACK_S, daily_usage, report_days
from relay.server import RelayServer
from relay.store.directory import MAX_AUDIT_LIMIT, AuditRecord, Host, account_key

log = logging.getLogger("telework.admin")
# Alerts go to their own logger so an operator can route them to syslog on their own.
alert_log = logging.getLogger("telework.alert")
T = TypeVar("T")

# Issuer shown next to the account in authenticator apps (the same as the manage CLI's).
TOTP_ISSUER = "Telework"
# How an admin's ending of a session is named to the host and in the audit log.
END_REASON_ADMIN = CloseReason.ENDED_BY_ADMIN.value  # the viewer shows why
# Audit records shown as alerts.
ALERT_EVENTS = ("bandwidth_alert", "bandwidth_alert_cleared")
MAX_ALERTS_SHOWN = 100


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
        self.sessions = (
            AdminSessions(clock) if token_ttl_s is None else AdminSessions(clock, token_ttl_s)
        )
        self.login_lockout = Lockout.per_user(clock)
        self.source_lockout = Lockout.per_source(clock)
        self.monitor = BandwidthMonitor(server, wall_clock=clock)
        self.monitor_interval_s = monitor_interval_s
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Take over the relay's hooks and start sampling bandwidth."""
        self.monitor.limits = await self.db(self.directory.all_bandwidth_limits)
        # Replacing the hooks on the instance is how the relay expects to be extended.
        self.server.policy_for_host = self.directory.effective_policy
        self.server.session_rate_bps = self._session_rate_bps
        self.monitor.apply_caps()
        self._task = asyncio.create_task(self._monitor_loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _session_rate_bps(self, tenant: str) -> int:
        # Called as a session starts (it is already counted): re-share the cap at once so the
        # tenant's total stays under it without waiting for the next sample.
        self.monitor.apply_caps()
        return self.monitor.share_bps(tenant)

    async def _monitor_loop(self) -> None:
        while True:
            await asyncio.sleep(self.monitor_interval_s)
            try:
                for event in self.monitor.sample():
                    await self._record_alert(event)
            except Exception:  # one bad sample must not end monitoring
                log.exception("bandwidth sample failed")

    async def _record_alert(self, event: AlertEvent) -> None:
        kbps, limit = event.rate_bps // 1000, event.threshold_bps // 1000
        if event.kind == "raised":
            alert_log.warning(
                "tenant %s bandwidth %d kbit/s is above its threshold %d kbit/s",
                event.tenant,
                kbps,
                limit,
            )
        else:
            alert_log.info(
                "tenant %s bandwidth %d kbit/s is back under its threshold %d kbit/s",
                event.tenant,
                kbps,
                limit,
            )
        await self.db(
            partial(
                self.directory.audit,
                ALERT_EVENTS[0] if event.kind == "raised" else ALERT_EVENTS[1],
                tenant=event.tenant,
                source="monitor",
                detail={"rate_bps": event.rate_bps, "threshold_bps": event.threshold_bps},
                now=event.ts,
            )
        )

    # -- plumbing ------------------------------------------------------------------------------

    async def db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking directory call off the event loop."""
        return await asyncio.to_thread(partial(function, *args, **kwargs))

    async def audit(
        self,
        who: AdminSession,
        event: str,
        source: str,
        *,
        tenant: str | None = None,
        user: str | None = None,
        host_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self.db(
            partial(
                self.directory.audit,
                f"admin.{event}",
                tenant=tenant,
                user=user,
                host_id=host_id,
                source=source,
                detail={"admin": who.login, **(detail or {})},
                now=self.clock(),
            )
        )

    async def tenant(self, who: AdminSession, name: str) -> str:
        """The tenant's name as stored, if ``who`` may see it; else :class:`NotFoundError`."""
        if not who.may_see(name):
            raise NotFoundError("no such tenant")
        tenant = await self.db(self.directory.get_tenant, name)
        if tenant is None:
            raise NotFoundError("no such tenant")
        return tenant.name

    @staticmethod
    def require_operator(who: AdminSession) -> None:
        if who.role is not Role.OPERATOR:
            raise Forbidden("only a relay operator may do this")

    # -- sign-in -------------------------------------------------------------------------------

    async def sign_in(self, login: str, password: str, otp: str, source: str) -> dict[str, Any]:
        # One count however the login is typed, and per IPv6 /64; counted while in flight, so
        # a burst of parallel guesses cannot all be checked before the first failure counts.
        login_key = account_key(login)
        attempt = Attempt(
            (self.source_lockout, source_key(source)), (self.login_lockout, login_key)
        )
        retry_at = attempt.begin()
        if retry_at is not None:
            raise LockedOut("too many failed sign-ins; try again later", _retry(retry_at, self))
        try:
            admin = await self.db(
                self.directory.authenticate_admin, login, password, otp, self.clock()
            )
        except BaseException:
            attempt.end(failed=False)  # no answer (an error, a cancellation): nothing to count
            raise
        until = attempt.end(failed=admin is None)
        if admin is None:
            await self.db(
                partial(
                    self.directory.audit,
                    "admin.login_refused",
                    source=source,
                    detail={"admin": login[:64]},
                    now=self.clock(),
                )
            )
            if until is not None:
                raise LockedOut("too many failed sign-ins; try again later", _retry(until, self))
            raise Unauthorized("wrong login, password or one-time password")
        self.login_lockout.record_success(login_key)
        token, session = self.sessions.open(admin.login, admin.tenant)
        await self.audit(session, "login", source, tenant=admin.tenant)
        return {"token": token, **session_info(session)}

    # -- views ---------------------------------------------------------------------------------

    def host_view(self, host: Host, last_session: dict[str, float]) -> dict[str, Any]:
        busy = {s.host_id for s in self.server.sessions.values()}
        return {
            "host_id": host.host_id,
            "display_id": format_host_id(host.host_id),
            "name": host.name,
            "online": host.host_id in self.server.hosts,
            "in_session": host.host_id in busy,
            "agent_version": host.agent_version,
            "created_at": host.created_at,
            "last_seen_at": host.last_seen_at,
            "last_session_at": last_session.get(host.host_id),
        }

    def live_sessions(self, tenant: str) -> list[dict[str, Any]]:
        out = []
        for session in self.server.sessions.values():
            if session.tenant != tenant:
                continue
            duration = max(session.duration_s, 1e-3)
            moved = session.bytes_to_viewer + session.bytes_to_host
            out.append(
                {
                    "session_id": session.session_id,
                    "user": session.user,
                    "host_id": session.host_id,
                    "source": session.source,
                    "started_at": session.started_at,
                    "duration_s": round(session.duration_s, 3),
                    "bytes_to_viewer": session.bytes_to_viewer,
                    "bytes_to_host": session.bytes_to_host,
                    "current_kbps": round(
                        self.monitor.session_bps.get(session.session_id, 0) / 1000, 1
                    ),
                    "average_kbps": round(moved * 8 / duration / 1000, 1),
                }
            )
        return sorted(out, key=lambda s: s["started_at"])

    def end_session(self, tenant: str, session_id: str) -> dict[str, Any]:
        session = self.server.sessions.get(session_id)
        if session is None or session.tenant != tenant:
            raise NotFoundError("no such live session")
        self.server.end_session(session_id, END_REASON_ADMIN)
        return {"session_id": session_id, "user": session.user, "host_id": session.host_id}

    def end_sessions(
        self, tenant: str, reason: str, *, user: str | None = None, host_id: str | None = None
    ) -> list[str]:
        """End the tenant's live sessions of ``user`` (a login as stored) and/or on ``host_id``,
        telling the viewer ``reason``; returns their IDs (an admin took the access away)."""
        ended = []
        for session in list(self.server.sessions.values()):
            if (
                session.tenant == tenant
                and (user is None or session.user == user)
                and (host_id is None or session.host_id == host_id)
                and self.server.end_session(session.session_id, reason)
            ):
                ended.append(session.session_id)
        return ended

    async def push_policies(self, host_ids: list[str]) -> list[str]:
        """Push the effective policy to those of ``host_ids`` that are online; returns them."""
        pushed = []
        for host_id in host_ids:
            if host_id in self.server.hosts:
                policy = await self.db(self.directory.effective_policy, host_id)
                if policy and await self.server.push_policy(host_id, policy):
                    pushed.append(host_id)
        return pushed

    def bandwidth(self, tenant: str) -> dict[str, Any]:
        alert_bps, cap_bps = self.monitor.limits.get(tenant, (None, None))
        rates = self.monitor.tenants.get(tenant)
        history = [{"ts": ts, "bps": bps} for ts, bps in (rates.history if rates else ())]
        return {
            "tenant": tenant,
            "current_bps": self.monitor.current_bps(tenant),
            "alert_bps": alert_bps,
            "cap_bps": cap_bps,
            "alerting": bool(rates and rates.alerting),
            "session_budget_bps": self.monitor.share_bps(tenant),
            "sessions": sum(1 for s in self.server.sessions.values() if s.tenant == tenant),
            "interval_s": self.monitor_interval_s,
            "history": history,
        }

    async def set_limits(self, tenant: str, alert_bps: int | None, cap_bps: int | None) -> None:
        await self.db(
            self.directory.set_bandwidth_limits, tenant, alert_bps, cap_bps, now=self.clock()
        )
        if alert_bps is None and cap_bps is None:
            self.monitor.limits.pop(tenant, None)
        else:
            self.monitor.limits[tenant] = (alert_bps, cap_bps)
        self.monitor.apply_caps()

    async def alerts(self, tenant: str) -> list[dict[str, Any]]:
        records: list[AuditRecord] = []
        for event in ALERT_EVENTS:
            records += await self.db(
                self.directory.list_audit, tenant=tenant, event=event, limit=MAX_ALERTS_SHOWN
            )
        records.sort(key=lambda r: r.id)
        return [
            {
                "ts": r.ts,
                "kind": "raised" if r.event == ALERT_EVENTS[0] else "cleared",
                "rate_bps": r.detail.get("rate_bps"),
                "threshold_bps": r.detail.get("threshold_bps"),
            }
            for r in records[-MAX_ALERTS_SHOWN:]
        ]

    async def usage(
        self, tenant: str, since: dt.date | None, until: dt.date | None
    ) -> list[dict[str, Any]]:
        """Daily usage from ``since`` to ``until`` (defaults: see :func:`report_days`)."""
        today = dt.datetime.fromtimestamp(self.clock()).date()
        first, last = report_days(since, until, today)
        lo = dt.datetime.combine(first, dt.time()).astimezone().timestamp() - SESSION_LOOKBACK_S
        hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()).astimezone().timestamp()
        records: list[AuditRecord] = []
        for event in ("session_start", "session_end"):
            records += await self.db(
                self.directory.list_audit,
                tenant=tenant,
                event=event,
                since=lo,
                until=hi + SESSION_LOOKBACK_S,
                limit=MAX_AUDIT_LIMIT,
            )
        return [d.to_dict() for d in daily_usage(records, first, last, self.clock())]


def session_info(session: AdminSession) -> dict[str, Any]:
    return {
        "login": session.login,
        "role": session.role.value,
        "tenant": session.tenant,
        "expires_at": session.expires_at,
    }


def _retry(until: float, service: AdminService) -> int:
    return max(1, int(until - service.clock()) + 1)


def uri_for(secret: str, login: str, tenant: str) -> str:
    return provisioning_uri(secret, f"{login}@{tenant}", TOTP_ISSUER)
