"""Office PCs (hosts): enrolment with a single-use token, authentication by their secret,
renaming and retiring.

Enrolment and authentication are fed by a peer: they never raise for bad input (a refused
enrolment raises :class:`EnrollmentRefused` with a safe reason code and consumes nothing).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.wake import LanCard
from relay.store.database import Database
from relay.store.errors import EnrollmentRefused, InvalidInput, NotFound
from relay.store.inputs import (
    canonical_tenant,
    checked_host_id,
    clean_name,
    is_host_id,
    lifetime,
    page_rows,
)
from relay.store.schema import (
    MAX_AGENT_VERSION_LEN,
    MAX_CERT_PEM_LEN,
    MAX_HOST_NAME_LEN,
    enrollment_tokens,
    grants,
    hosts,
    resume_tickets,
    tenants,
)
from relay.store.tenants import require_tenant
from relay.store.tokens import UNMATCHABLE_DIGEST, new_token, token_digest

# Longest an enrolment token may live: a week covers "install it on Monday" without leaving
# forgotten tokens valid for ever.
MAX_ENROLLMENT_TTL_S = 7 * 24 * 3600.0
# Its values passed apart: built and cached once, not per office PC coming online.
_RECORD_SEEN = sa.update(hosts).where(hosts.c.host_id == sa.bindparam("seen"))


@dataclass(frozen=True)
class Host:
    host_id: str
    tenant: str
    name: str
    cert_pem: str
    agent_version: str
    created_at: float
    last_seen_at: float | None
    retired: bool
    # Wake-on-LAN: the card it last reported (None: none yet, or an agent without the report)
    # and whether the admin lets it wake others.
    lan: LanCard | None = None
    can_wake: bool = False
    # The central MAC check (relay.store.home_pcs): on once its central list held a home PC.
    central_macs: bool = False


class Hosts:
    """Enrolling, authenticating, listing, renaming and retiring office PCs."""

    _db: Database

    def issue_enrollment_token(self, tenant: str, ttl_s: float, now: float) -> str:
        """A single-use token that enrols one host into ``tenant`` within ``ttl_s`` seconds."""
        tenant = canonical_tenant(tenant)
        ttl = lifetime(ttl_s, MAX_ENROLLMENT_TTL_S, "enrolment token")
        token = new_token()
        with self._db.write() as conn:
            tenant_id = require_tenant(conn, tenant)
            conn.execute(
                sa.insert(enrollment_tokens).values(
                    token_hash=token_digest(token),
                    tenant_id=tenant_id,
                    created_at=now,
                    expires_at=now + ttl,
                    used_at=None,
                    host_id=None,
                )
            )
        return token

    def redeem_enrollment_token(
        self,
        token: str,
        host_id: str,
        cert_pem: str,
        name: str,
        agent_version: str,
        now: float,
        lan: LanCard | None = None,
    ) -> tuple[str, str]:
        """Enrol a host with ``token``; returns (tenant name, host secret shown once).

        Raises :class:`EnrollmentRefused` (reason ``token_unknown``, ``token_used``,
        ``token_expired``, ``host_exists`` or ``bad_request``); a refusal consumes nothing.
        """
        try:
            host_id = checked_host_id(host_id)
            name = clean_name(name, "host name", MAX_HOST_NAME_LEN)
            agent_version = clean_name(agent_version, "agent version", MAX_AGENT_VERSION_LEN)
        except InvalidInput as exc:
            raise EnrollmentRefused("bad_request", str(exc)) from None
        if not isinstance(cert_pem, str) or not 0 < len(cert_pem) <= MAX_CERT_PEM_LEN:
            raise EnrollmentRefused("bad_request", "certificate missing or too large")
        digest = token_digest(token)
        secret = new_token()
        with self._db.write() as conn:
            row = None
            if digest is not None:
                row = conn.execute(
                    sa.select(enrollment_tokens, tenants.c.name.label("tenant"))
                    .join(tenants, tenants.c.id == enrollment_tokens.c.tenant_id)
                    .where(enrollment_tokens.c.token_hash == digest)
                ).first()
            if row is None:
                raise EnrollmentRefused("token_unknown", "enrolment token not recognised")
            if row.used_at is not None:
                raise EnrollmentRefused("token_used", "enrolment token was already used")
            if row.expires_at <= now:
                raise EnrollmentRefused("token_expired", "enrolment token has expired")
            exists = conn.execute(sa.select(hosts.c.host_id).where(hosts.c.host_id == host_id))
            if exists.first() is not None:
                raise EnrollmentRefused("host_exists", "a host with this ID is already enrolled")
            consumed = conn.execute(
                sa.update(enrollment_tokens)
                .where(enrollment_tokens.c.id == row.id, enrollment_tokens.c.used_at.is_(None))
                .values(used_at=now, host_id=host_id)
            ).rowcount
            if consumed != 1:
                raise EnrollmentRefused("token_used", "enrolment token was already used")
            conn.execute(
                sa.insert(hosts).values(
                    host_id=host_id,
                    tenant_id=row.tenant_id,
                    name=name,
                    cert_pem=cert_pem,
                    secret_hash=token_digest(secret),
                    agent_version=agent_version,
                    created_at=now,
                    last_seen_at=None,
                    retired=False,
                    **_lan_values(lan),
                )
            )
        return row.tenant, secret

    def check_host_credential(self, host_id: str, secret: str) -> Host | None:
        """The host if ``secret`` is its enrolment credential and it is not retired; else None.
        Only reads: what the relay saw (:meth:`record_host_seen`) is written apart, with other
        writes in one commit, so a rush of office PCs does not queue behind the disk."""
        digest = token_digest(secret) or UNMATCHABLE_DIGEST
        row = None
        if is_host_id(host_id):
            with self._db.read() as conn:
                row = conn.execute(_host_select().where(hosts.c.host_id == host_id)).first()
        stored = UNMATCHABLE_DIGEST if row is None else row.secret_hash
        matches = hmac.compare_digest(digest.encode(), stored.encode())
        if row is None or not matches or row.retired:
            return None
        return _host(row)

    def record_host_seen(self, host_id: str, now: float, lan: LanCard | None = None) -> None:
        """Record that the office PC's control channel came online at ``now``, with the network
        card it reports (``lan``): a hint for the console and for waking it."""
        with self._db.write() as conn:
            conn.execute(_RECORD_SEEN, {"seen": host_id, "last_seen_at": now, **_lan_values(lan)})

    def get_host(self, host_id: str) -> Host | None:
        if not is_host_id(host_id):
            return None
        with self._db.read() as conn:
            row = conn.execute(_host_select().where(hosts.c.host_id == host_id)).first()
        return None if row is None else _host(row)

    def list_hosts(
        self,
        tenant: str,
        *,
        include_retired: bool = False,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Host]:
        """The tenant's office PCs by name (then ID): those after the office PC ``after`` if
        given (NotFound if it is not the tenant's), at most ``limit`` if given (a page)."""
        tenant, limit = canonical_tenant(tenant), page_rows(limit)
        with self._db.read() as conn:
            tenant_id = require_tenant(conn, tenant)
            query = (
                _host_select()
                .where(hosts.c.tenant_id == tenant_id)
                .order_by(hosts.c.name, hosts.c.host_id)
                .limit(limit)
            )
            if not include_retired:
                query = query.where(sa.not_(hosts.c.retired))
            if after is not None:
                last = conn.execute(
                    sa.select(hosts.c.name).where(
                        hosts.c.host_id == checked_host_id(after), hosts.c.tenant_id == tenant_id
                    )
                ).first()
                if last is None:
                    raise NotFound(f"no host {after!r} in tenant {tenant!r}")
                query = query.where(
                    sa.tuple_(hosts.c.name, hosts.c.host_id) > sa.tuple_(last.name, after)
                )
            rows = conn.execute(query).all()
        return [_host(row) for row in rows]

    def rename_host(self, tenant: str, host_id: str, name: str) -> str:
        """Rename a live host of ``tenant``; returns the name as stored (NFKC)."""
        tenant, host_id = canonical_tenant(tenant), checked_host_id(host_id)
        name = clean_name(name, "host name", MAX_HOST_NAME_LEN)
        with self._db.write() as conn:
            require_host(conn, tenant, host_id)
            conn.execute(sa.update(hosts).where(hosts.c.host_id == host_id).values(name=name))
        return name

    def set_host_can_wake(self, tenant: str, host_id: str, can_wake: bool) -> None:
        """Let a live office PC of ``tenant`` wake others of its LAN, or stop it."""
        tenant, host_id = canonical_tenant(tenant), checked_host_id(host_id)
        if not isinstance(can_wake, bool):
            raise InvalidInput("can_wake must be true or false")
        with self._db.write() as conn:
            require_host(conn, tenant, host_id)
            conn.execute(
                sa.update(hosts).where(hosts.c.host_id == host_id).values(can_wake=can_wake)
            )

    def wake_plan(self, host_id: str) -> tuple[Host, list[str]] | None:
        """For waking the live office PC ``host_id``: it, and the office PCs that may wake it
        (same tenant, allowed to, last seen on its LAN), most recently seen first; None if it
        is not a live office PC."""
        target = self.get_host(host_id)
        if target is None or target.retired:
            return None
        if target.lan is None:
            return target, []
        with self._db.read() as conn:
            rows = conn.execute(
                _host_select()
                .where(
                    hosts.c.tenant_id
                    == sa.select(hosts.c.tenant_id)
                    .where(hosts.c.host_id == host_id)
                    .scalar_subquery(),
                    hosts.c.can_wake,
                    sa.not_(hosts.c.retired),
                    hosts.c.host_id != host_id,
                    hosts.c.lan_address.is_not(None),
                )
                .order_by(hosts.c.last_seen_at.desc().nulls_last())
            ).all()
        wakers = [_host(row) for row in rows]
        lan = target.lan
        return target, [w.host_id for w in wakers if w.lan is not None and w.lan.same_lan(lan)]

    def retire_host(self, tenant: str, host_id: str) -> None:
        """Retire a host for good: it can no longer authenticate; its grants and tickets go."""
        tenant, host_id = canonical_tenant(tenant), checked_host_id(host_id)
        with self._db.write() as conn:
            require_host(conn, tenant, host_id)
            conn.execute(sa.update(hosts).where(hosts.c.host_id == host_id).values(retired=True))
            for table in (grants, resume_tickets):
                conn.execute(sa.delete(table).where(table.c.host_id == host_id))


def require_host(conn: sa.Connection, tenant: str, host_id: str) -> None:
    """NotFound unless ``host_id`` is a live host of ``tenant``.

    A host of another tenant gets the same message as no host at all: tenant isolation.
    """
    tenant_id = require_tenant(conn, tenant)
    found = conn.execute(
        sa.select(hosts.c.host_id).where(
            hosts.c.host_id == host_id,
            hosts.c.tenant_id == tenant_id,
            sa.not_(hosts.c.retired),
        )
    ).first()
    if found is None:
        raise NotFound(f"no host {host_id!r} in tenant {tenant!r}")


def _host_select() -> sa.Select[Any]:
    return sa.select(hosts, tenants.c.name.label("tenant")).join(
        tenants, tenants.c.id == hosts.c.tenant_id
    )


def _host(row: sa.Row[Any]) -> Host:
    return Host(
        host_id=row.host_id,
        tenant=row.tenant,
        name=row.name,
        cert_pem=row.cert_pem,
        agent_version=row.agent_version,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        retired=bool(row.retired),
        lan=LanCard.optional(row.lan_mac or "", row.lan_address or ""),
        can_wake=bool(row.can_wake),
        central_macs=bool(row.central_macs),
    )


def _lan_values(lan: LanCard | None) -> dict[str, Any]:
    """The columns recording a reported network card (none reported: left as they were)."""
    if lan is None:
        return {}
    return {"lan_mac": lan.mac, "lan_address": lan.wire_address}
