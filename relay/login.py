"""A viewer's login, as one pipeline: canonical names → lockout → the host and device asked
for → OTP (or resume ticket) → grant → the home-PC check → the office PC's decision → the
joined session.

Every refusal is audited where it is decided, before the viewer hears of it; what the viewer
hears never tells a guesser whether a user name exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from core.auth.lockout import Attempt
from core.crypto.certs import fingerprint, parse_host_id, pem_to_der
from core.errors import CryptoError, ProtocolError
from core.homecheck.evaluate import judge
from core.homecheck.report import HomeReport
from core.policy import Policy
from core.protocol.control import Attached, Login, LoginOk, Progress, RefusalReason, SessionOffer
from relay.audit_backlog import PendingRecord
from relay.context import AuditWho, RelayContext, unvalidated_name
from relay.errors import Refusal
from relay.host_channels import HostChannel, HostChannels, HostRef, PendingAttach
from relay.lockouts import SharedLockout
from relay.sessions import LiveSession, LiveSessions
from relay.store.inputs import account_key, canonical_names
from relay.store.lockouts import SharedCount
from relay.store.staff import OtpResult
from relay.store.tickets import Redeemed
from relay.tickets import ResumeTickets
from relay.wake import Wakes
from transport.link_stream import LinkStream

# Refusals after the viewer proved its identity that say "the office PC is not ready": the
# viewer gets a fresh resume ticket with them, so it can retry without typing a new OTP.
TRANSIENT_HOST_REASONS = frozenset(
    {
        RefusalReason.HOST_OFFLINE,
        RefusalReason.HOST_BUSY,
        RefusalReason.HOST_TIMEOUT,
        RefusalReason.WAKE_UNAVAILABLE,
        RefusalReason.WAKE_TIMEOUT,
    }
)
# What an accepted OTP used up, as its ``otp_used`` record names it.
OTP_USED = {OtpResult.TOTP_OK: "totp", OtpResult.CODE_OK: "code"}
# How long a session ID is, in random bytes (URL-safe base64 on the wire).
SESSION_ID_BYTES = 18
# A home-PC check passed at an OTP login holds for the resume tickets of its chain this long:
# a reconnect is not checked again (the chain itself ends by MAX_OTP_FREE_S, as long).
HOME_CHECK_PASS_TTL_S = 12 * 3600.0


@dataclass(frozen=True)
class LoginNames:
    """The names a login typed, canonicalised here and nowhere else in the relay."""

    lockout_key: str  # what lockouts count the account's failures by
    stored: tuple[str, str] | None  # (tenant, user) as the directory stores them; None: no account
    audited: tuple[str, str]  # as the audit log keeps them

    @classmethod
    def of(cls, message: Login) -> LoginNames:
        stored = canonical_names(message.tenant, message.user)
        # As stored where they can name an account (so a full-width spelling is found under
        # the tenant), else cut and made printable.
        audited = stored or (unvalidated_name(message.tenant), unvalidated_name(message.user))
        return cls(account_key(message.tenant, message.user), stored, audited)


@dataclass(frozen=True)
class SharedCounts:
    """A login's source and user as every relay node counts them, when it began."""

    source: SharedCount
    user: SharedCount
    user_lockout: SharedLockout  # the user's tenant's (its own limits, or the defaults)


@dataclass(frozen=True)
class ProvenLogin:
    """Who a login proved to be (names as stored) and what it asks for."""

    tenant: str
    user: str
    host_id: str
    device_fp: str
    source: str
    # With a resume ticket, not an OTP: when its chain's OTP login was, and when the ticket
    # would have expired (a ticket handed back with a refusal gets no longer).
    ticket: Redeemed | None = None

    @property
    def resumed(self) -> bool:
        return self.ticket is not None

    @property
    def who(self) -> AuditWho:
        """The login's fields of an audit record."""
        return {
            "tenant": self.tenant,
            "user": self.user,
            "host_id": self.host_id,
            "source": self.source,
        }


class ViewerLogin:
    """Answers a connection whose first message is a viewer's :class:`Login`."""

    def __init__(
        self,
        context: RelayContext,
        channels: HostChannels,
        sessions: LiveSessions,
        tickets: ResumeTickets,
    ) -> None:
        self._context = context
        self._channels = channels
        self._sessions = sessions
        self._tickets = tickets
        self._wakes = Wakes(context, channels)

    async def handle(self, stream: LinkStream, message: Login) -> None:
        """Let the viewer in and run its session, or raise the :class:`Refusal` it gets."""
        now = self._context.wall()
        names = LoginNames.of(message)
        shared = await self._refuse_if_locked_out(stream, names)
        # Parsed after the lockout: a locked-out source hears LOCKED_OUT whatever it sends.
        host_id, device_fp = _host_and_device(message)
        report = HomeReport.from_wire(message.home_check)
        login = await self._prove(stream, message, names, host_id, device_fp, now, shared)
        await self._require_grant(login)
        policy = await self._check_home_pc(login, report, now)
        channel, session_id, host_stream, pending = await self._ask_office_pc(
            stream, message, login, report
        )
        try:
            # Asked again: an admin may have withdrawn the grant or disabled the user while
            # the office PC was deciding, and their action only ends sessions already running.
            await self._require_grant(login)
            await self._join(login, session_id, stream, host_stream, channel, policy, report)
        finally:
            pending.over.set()

    async def _refuse_if_locked_out(self, stream: LinkStream, names: LoginNames) -> SharedCounts:
        """Refuse a source or user locked out on any relay node; else the counts every node
        shares of their failures, for :meth:`_prove`. A source this node knows is locked is
        refused before any directory call."""
        context = self._context
        lockouts = context.lockouts
        context.check_source(stream.source_key)
        user_lockout = await lockouts.user_of(names.stored[0] if names.stored else None)
        source_count, user_count = await lockouts.shared_counts(
            (lockouts.source, stream.source_key), (user_lockout, names.lockout_key)
        )
        context.check_source(stream.source_key)  # with a lock another node set, adopted
        until = user_lockout.local.locked_until(names.lockout_key)
        if until is not None:
            # Counts against the source too: once it is locked, check_source refuses it
            # before this audit record, so hammering a locked name cannot fill the disk.
            lockouts.source.local.record_failure(stream.source_key)
            await lockouts.count_failures([(lockouts.source, stream.source_key)])
            tenant, user = names.audited
            await context.audit(
                "login_refused",
                tenant=tenant,
                user=user,
                source=stream.source,
                detail={"reason": "locked_out"},
            )
            raise Refusal(RefusalReason.LOCKED_OUT, int(until) + 1)
        return SharedCounts(source_count, user_count, user_lockout)

    async def _prove(
        self,
        stream: LinkStream,
        message: Login,
        names: LoginNames,
        host_id: str,
        device_fp: str,
        now: float,
        shared: SharedCounts,
    ) -> ProvenLogin:
        """Check the OTP or resume ticket; count failures against the user and the source, on
        this node and in the counts every node shares.

        The attempt counts while it is checked, so a burst of parallel guesses cannot all be
        checked before the first failure counts (on this node: the ones under way on others
        are not known here, their failures are)."""
        context = self._context
        lockouts = context.lockouts
        counted_by = (
            (lockouts.source, stream.source_key),
            (shared.user_lockout, names.lockout_key),
        )
        attempt = Attempt(*((lockout.local, key) for lockout, key in counted_by))
        retry_at = attempt.begin([shared.source.failures, shared.user.failures])
        if retry_at is not None:
            raise Refusal(RefusalReason.LOCKED_OUT, int(retry_at) + 1)
        try:
            proven, cause = await self._check_credentials(
                message, names, host_id, device_fp, stream.source, now
            )
        except BaseException:
            attempt.end(failed=False)  # no answer (an error, a cancellation): nothing to count
            raise
        locked_until = attempt.end(failed=proven is None)
        if proven is not None:
            await lockouts.succeeded(shared.user_lockout, names.lockout_key, shared.user)
            (tenant, user), ticket = proven
            return ProvenLogin(tenant, user, host_id, device_fp, stream.source, ticket)
        locked_until = await lockouts.failed(counted_by, locked_until)
        tenant, user = names.audited
        await context.audit(
            "login_refused",
            tenant=tenant,
            user=user,
            host_id=host_id,
            source=stream.source,
            detail={"reason": cause},
        )
        if locked_until is not None:
            raise Refusal(RefusalReason.LOCKED_OUT, int(locked_until) + 1)
        if message.resume_ticket:
            raise Refusal(RefusalReason.BAD_RESUME_TICKET)
        # "Wrong OTP" whatever the cause, so user names stay secret; the audit log (admins
        # only) keeps the real cause.
        raise Refusal(RefusalReason.WRONG_OTP)

    async def _check_credentials(
        self,
        message: Login,
        names: LoginNames,
        host_id: str,
        device_fp: str,
        source: str,
        now: float,
    ) -> tuple[tuple[tuple[str, str], Redeemed | None] | None, str]:
        """Who the login proves to be (tenant, user as stored) and the ticket it used, or None
        with the real cause for the audit log. An OTP it accepts is used up in one transaction
        with its ``otp_used`` record."""
        context = self._context
        if message.resume_ticket:
            resumed = await context.db(
                context.directory.redeem_resume_ticket,
                message.resume_ticket,
                host_id,
                device_fp,
                now,
            )
            # The ticket, not the typed names, says who this is.
            if resumed is None:
                return None, "bad_resume_ticket"
            return ((resumed.tenant, resumed.login), resumed), ""
        tenant, user = names.audited

        def used_up(result: OtpResult) -> PendingRecord | None:
            used = OTP_USED.get(result)
            if used is None:
                return None  # refused: nothing was used up
            return context.record("otp_used", tenant, user, host_id, source, {"otp": used})

        result = await context.db_recorded(
            context.directory.verify_otp,
            message.tenant,
            message.user,
            message.otp,
            now,
            record=used_up,
        )
        if result in (OtpResult.TOTP_OK, OtpResult.CODE_OK) and names.stored is not None:
            return (names.stored, None), ""  # as stored: the typed may be full-width
        return None, result.name.lower()

    async def _require_grant(self, login: ProvenLogin) -> None:
        context = self._context
        granted = await context.db(
            context.directory.is_granted, login.tenant, login.user, login.host_id
        )
        if not granted:
            await context.audit("login_refused", **login.who, detail={"reason": "not_granted"})
            raise Refusal(RefusalReason.NOT_GRANTED)

    async def _check_home_pc(
        self, login: ProvenLogin, report: HomeReport | None, now: float
    ) -> Policy:
        """Refuse a home PC the tenant's (and the office PC's central) policy does not let in;
        else that policy, for the login message. A resumed login whose chain began with a
        checked OTP login within HOME_CHECK_PASS_TTL_S is not checked again."""
        context = self._context
        policy = Policy.from_dict(await context.db(context.directory.login_policy, login.host_id))
        ticket = login.ticket
        if ticket is not None and now - ticket.chain_started_at < HOME_CHECK_PASS_TTL_S:
            return policy
        verdict = judge(report, policy)
        if verdict.refusal is None:
            return policy
        checks = tuple(check.value for check in verdict.failed)
        await context.audit(
            "login_refused",
            **login.who,
            detail={"reason": verdict.refusal.value, "checks": list(checks), **_reported(report)},
        )
        raise Refusal(verdict.refusal, checks=checks)

    async def _ask_office_pc(
        self, stream: LinkStream, message: Login, login: ProvenLogin, report: HomeReport | None
    ) -> tuple[HostRef, str, LinkStream, PendingAttach]:
        """The office PC's decision: its channel, the session's ID, and once it accepted, its
        data connection and the attach to release when the session ends."""
        try:
            await stream.send(Progress("waiting_for_host"))
            # A resumed login waits a little for an office PC that is not (yet) back: after a
            # relay restart the viewer often returns first, and an office PC is back within
            # seconds; refused now, the viewer would wait a whole back-off step more.
            wait_s = self._context.settings.resume_host_wait_s if login.resumed else 0.0
            channel = await self._channels.locate(login.host_id, wait_s)
            if channel is None and message.wake:
                channel = await self._wakes.wake_and_wait(stream, login.host_id, login.who)
            # (Another node checks the tenant of an office PC it holds when it gets the offer.)
            if channel is None or (
                isinstance(channel, HostChannel) and channel.tenant != login.tenant
            ):
                await self._context.audit(
                    "login_refused", **login.who, detail={"reason": "host_offline"}
                )
                raise Refusal(RefusalReason.HOST_OFFLINE)
            session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
            offer = SessionOffer(
                session_id,
                login.tenant,
                login.user,
                message.device_cert,
                message.macs,
                login.source,
                self._channels.attach_address,
                report.to_wire() if report is not None else {},
            )
            host_stream, pending = await self._channels.ask(channel, offer, login.who)
        except Refusal as refusal:
            if refusal.reason in TRANSIENT_HOST_REASONS:
                # The user proved who they are; the office PC is just not ready. A ticket lets
                # the viewer retry without a new OTP (the used one is gone). One handed back
                # for a used ticket lives no longer than that one would have: refusals cannot
                # keep a ticket alive.
                refusal.resume_ticket = await self._issue_ticket(login, refused=True)
            raise
        return channel, session_id, host_stream, pending

    async def _join(
        self,
        login: ProvenLogin,
        session_id: str,
        viewer: LinkStream,
        host: LinkStream,
        channel: HostRef,
        policy: Policy,
        report: HomeReport | None,
    ) -> None:
        context = self._context
        ticket = await self._issue_ticket(login)
        context.metrics.logins += 1
        detail = {"device": login.device_fp, **_reported(report)}
        await context.audit("login", **login.who, detail=detail)
        await host.send(Attached(session_id))
        await viewer.send(
            LoginOk(
                session_id,
                ticket,
                context.settings.resume_ticket_ttl_s,
                policy.login_message or "",
            )
        )
        session = LiveSession(
            session_id,
            login.tenant,
            login.user,
            login.host_id,
            login.device_fp,
            login.source,
            context.wall(),
            context.monotonic,
        )
        session.resume_ticket = ticket
        session.resumed = login.resumed
        await self._sessions.run(session, viewer, host, channel)

    async def _issue_ticket(self, login: ProvenLogin, *, refused: bool = False) -> str:
        """The next ticket of the login's chain (a new chain after an OTP login)."""
        used = login.ticket
        return await self._tickets.issue(
            login.tenant,
            login.user,
            login.host_id,
            login.device_fp,
            chain_started_at=used.chain_started_at if used else None,
            expires_at=used.expires_at if used and refused else None,
        )


def _reported(report: HomeReport | None) -> dict[str, object]:
    """The home PC's statements for an audit record (none: the viewer sent no report)."""
    return {} if report is None else {"home_check": report.to_wire()}


def _host_and_device(message: Login) -> tuple[str, str]:
    """The host ID the login asks for and its device's fingerprint; a malformed one is the
    peer's protocol error."""
    try:
        device_fp = fingerprint(pem_to_der(message.device_cert))
        host_id = parse_host_id(message.host_id)
    except CryptoError as exc:
        raise ProtocolError(f"login: {exc}") from exc
    return host_id, device_fp
