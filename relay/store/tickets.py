"""Resume tickets: single-use, device-bound tickets that let a dropped viewer reconnect to the
same office PC without a new OTP."""

from __future__ import annotations

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
    ) -> str:
        """A single-use ticket letting this user on this device reconnect to this host."""
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        host_id = checked_host_id(host_id)
        device = checked_device_fingerprint(device_fingerprint)
        ttl = lifetime(ttl_s, MAX_RESUME_TICKET_TTL_S, "resume ticket")
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
                    expires_at=now + ttl,
                )
            )
        return ticket

    def redeem_resume_ticket(
        self, ticket: str, host_id: str, device_fingerprint: str, now: float
    ) -> tuple[str, str] | None:
        """(tenant, login) if the ticket is live and matches host and device; else None.

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
                and row.host_id == host_id
                and row.device_fingerprint == device_fingerprint
                and not row.disabled
                and granted(conn, row.name, row.login, host_id)
            )
        return (row.name, row.login) if usable else None

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
            changed = conn.execute(
                sa.update(resume_tickets)
                .where(resume_tickets.c.ticket_hash == digest, resume_tickets.c.expires_at > now)
                .values(expires_at=expires_at)
            ).rowcount
        return bool(changed == 1)
