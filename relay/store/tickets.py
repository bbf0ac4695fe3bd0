"""Resume tickets: single-use, device-bound tickets that let a dropped viewer reconnect to the
same office PC without a new OTP."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from relay.store.database import Database
from relay.store.errors import InvalidInput
from relay.store.grants import granted
from relay.store.hosts import require_host
from relay.store.inputs import (
    canonical_login,
    canonical_tenant,
    checked_device_fingerprint,
    checked_host_id,
    lifetime,
)
from relay.store.schema import resume_tickets, tenants, users
from relay.store.staff import require_user
from relay.store.tokens import new_token, token_digest

# Longest a resume ticket may live: a working day. Reconnects skip the OTP only within it.
MAX_RESUME_TICKET_TTL_S = 12 * 3600.0
# Reconnects without an OTP end this long after the OTP login that began them, however often
# the chain's tickets were renewed (a long session) or re-issued (a resumed login, a refusal
# that hands one back): a stolen ticket and device key cannot be kept alive for ever.
MAX_OTP_FREE_S = 12 * 3600.0


class Redeemed(NamedTuple):
    """Who a redeemed ticket let in, and its chain: when the chain's OTP login was, and when
    the ticket itself would have expired."""

    tenant: str
    login: str
    chain_started_at: float
    expires_at: float


class ResumeTickets:
    """Issuing, redeeming and moving the expiry of resume tickets."""

    _db: Database

    def issue_resume_ticket(
        self,
        tenant: str,
        login: str,
        host_id: str,
        device_fingerprint: str,
        ttl_s: float,
        now: float,
        *,
        chain_started_at: float | None = None,
        expires_at: float | None = None,
    ) -> str:
        """A single-use ticket letting this user on this device reconnect to this host, for
        ``ttl_s`` (or until ``expires_at``, if sooner) but never past MAX_OTP_FREE_S after its
        chain began: at ``chain_started_at`` (a resumed login's), else now (an OTP login's)."""
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        host_id = checked_host_id(host_id)
        device = checked_device_fingerprint(device_fingerprint)
        ttl = lifetime(ttl_s, MAX_RESUME_TICKET_TTL_S, "resume ticket")
        chain = now if chain_started_at is None else min(chain_started_at, now)
        ends = min(now + ttl, chain + MAX_OTP_FREE_S, expires_at if expires_at else now + ttl)
        ticket = new_token()
        with self._db.write() as conn:
            user_id = require_user(conn, tenant, login)
            require_host(conn, tenant, host_id)
            # Housekeeping: expired tickets can never be redeemed, drop them as we go.
            conn.execute(sa.delete(resume_tickets).where(resume_tickets.c.expires_at <= now))
            conn.execute(
                sa.insert(resume_tickets).values(
                    ticket_hash=token_digest(ticket),
                    user_id=user_id,
                    host_id=host_id,
                    device_fingerprint=device,
                    created_at=now,
                    expires_at=ends,
                    chain_started_at=chain,
                )
            )
        return ticket

    def redeem_resume_ticket(
        self, ticket: str, host_id: str, device_fingerprint: str, now: float
    ) -> Redeemed | None:
        """Who the ticket lets in if it is live, its chain not past MAX_OTP_FREE_S, and it
        matches host and device; else None.

        Any presentation uses the ticket up, matching or not: a ticket shown from the wrong
        device may have been stolen, so it must not stay valid for the thief's next try.
        The user must still be enabled and granted the host.
        """
        digest = token_digest(ticket)
        if digest is None:
            return None
        with self._db.write() as conn:
            row = conn.execute(
                sa.select(resume_tickets, users.c.login, users.c.disabled, tenants.c.name)
                .join(users, users.c.id == resume_tickets.c.user_id)
                .join(tenants, tenants.c.id == users.c.tenant_id)
                .where(resume_tickets.c.ticket_hash == digest)
            ).first()
            if row is None:
                return None
            consumed = conn.execute(
                sa.delete(resume_tickets).where(resume_tickets.c.ticket_hash == digest)
            ).rowcount
            usable = (
                consumed == 1
                and row.expires_at > now
                and now < row.chain_started_at + MAX_OTP_FREE_S
                and row.host_id == host_id
                and row.device_fingerprint == device_fingerprint
                and not row.disabled
                and granted(conn, row.name, row.login, host_id)
            )
        if not usable:
            return None
        return Redeemed(row.name, row.login, row.chain_started_at, row.expires_at)

    def set_resume_ticket_expiry(self, ticket: str, expires_at: float, now: float) -> bool:
        """Move a live ticket's expiry: renew it while its session runs, restart its time when
        the session ends, or end it (``expires_at == now``). False if the ticket is gone.

        A ticket already used or expired is never brought back, so single use stays single use.
        """
        if not now <= expires_at <= now + MAX_RESUME_TICKET_TTL_S:
            raise InvalidInput(f"resume ticket expiry must be within {MAX_RESUME_TICKET_TTL_S:g} s")
        digest = token_digest(ticket)
        if digest is None:
            return False
        with self._db.write() as conn:
            chain_ends = resume_tickets.c.chain_started_at + MAX_OTP_FREE_S
            changed = conn.execute(
                sa.update(resume_tickets)
                .where(resume_tickets.c.ticket_hash == digest, resume_tickets.c.expires_at > now)
                .values(  # never past the chain's end
                    expires_at=sa.case((chain_ends < expires_at, chain_ends), else_=expires_at)
                )
            ).rowcount
        return bool(changed == 1)
