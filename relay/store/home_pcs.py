"""Home PCs registered by MAC address, for a staff user or for one office PC of a tenant.

An office PC's central list is its own registrations plus those of the users granted it; it may
not grow past the policy's MAX_MACS (the office PC would reject the whole policy), so every
change that adds to a list checks it in the same write transaction.

Once an office PC's central list has held a home PC, its central check stays on: a list
emptied by deleting its last entry (or by a revoked grant, a deleted user) lets nobody in,
until an admin switches the check off for that office PC (SECURITY.md). Deleting entries never
widens who may connect.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from core.admin_api import has_invisible
from core.policy import MAX_MACS, PolicyError, normalise_mac
from relay.store.database import Database
from relay.store.errors import AlreadyExists, InvalidInput, NotFound
from relay.store.hosts import require_host
from relay.store.inputs import canonical_login, canonical_tenant, checked_host_id
from relay.store.schema import MAX_MAC_LABEL_LEN, grants, home_macs, hosts, users
from relay.store.staff import require_user
from relay.store.tenants import require_tenant


@dataclass(frozen=True)
class MacRegistration:
    id: int
    tenant: str
    mac: str
    login: str | None  # owner: a staff user ...
    host_id: str | None  # ... or an office PC
    label: str
    created_at: float


class HomePcs:
    """Registering, listing and removing home PCs' MAC addresses."""

    _db: Database

    def add_mac(
        self,
        tenant: str,
        mac: str,
        *,
        login: str | None = None,
        host_id: str | None = None,
        label: str = "",
        now: float | None = None,
    ) -> MacRegistration:
        """Register a home PC's MAC for one staff user or one office PC of ``tenant``.

        Refused if an office PC's central list would grow past the policy's MAX_MACS.
        """
        tenant = canonical_tenant(tenant)
        if (login is None) == (host_id is None):
            raise InvalidInput("a MAC is registered for either a staff login or an office PC")
        try:
            mac = normalise_mac(mac)
        except PolicyError as exc:
            raise InvalidInput(str(exc)) from None
        if not isinstance(label, str) or len(label) > MAX_MAC_LABEL_LEN:
            raise InvalidInput(f"label must be text of at most {MAX_MAC_LABEL_LEN} characters")
        if label and has_invisible(label):
            raise InvalidInput("label must not contain control or invisible characters")
        login = None if login is None else canonical_login(login)
        host_id = None if host_id is None else checked_host_id(host_id)
        created = self._db.now(now)
        with self._db.write() as conn:
            tenant_id = require_tenant(conn, tenant)
            user_id = None if login is None else require_user(conn, tenant, login)
            if host_id is not None:
                require_host(conn, tenant, host_id)
            owner = (
                home_macs.c.user_id == user_id
                if user_id is not None
                else home_macs.c.host_id == host_id
            )
            if conn.execute(sa.select(home_macs.c.id).where(owner, home_macs.c.mac == mac)).first():
                raise AlreadyExists(f"{mac} is already registered for {login or host_id}")
            affected = (
                [host_id]
                if host_id is not None
                else [
                    row.host_id
                    for row in conn.execute(
                        sa.select(grants.c.host_id).where(grants.c.user_id == user_id)
                    )
                ]
            )
            for affected_host in affected:
                join_central_list(conn, affected_host, {mac})
            new_id = conn.execute(
                sa.insert(home_macs).values(
                    tenant_id=tenant_id,
                    user_id=user_id,
                    host_id=host_id,
                    mac=mac,
                    label=label,
                    created_at=created,
                )
            ).inserted_primary_key
        assert new_id is not None
        return MacRegistration(int(new_id[0]), tenant, mac, login, host_id, label, created)

    def list_macs(self, tenant: str) -> list[MacRegistration]:
        tenant = canonical_tenant(tenant)
        with self._db.read() as conn:
            tenant_id = require_tenant(conn, tenant)
            rows = conn.execute(
                sa.select(home_macs, users.c.login)
                .outerjoin(users, users.c.id == home_macs.c.user_id)
                .where(home_macs.c.tenant_id == tenant_id)
                .order_by(home_macs.c.id)
            ).all()
        return [
            MacRegistration(
                row.id, tenant, row.mac, row.login, row.host_id, row.label, row.created_at
            )
            for row in rows
        ]

    def delete_mac(self, tenant: str, registration_id: int) -> MacRegistration:
        """Remove a registration of ``tenant``; NotFound for any other tenant's."""
        tenant = canonical_tenant(tenant)
        if not isinstance(registration_id, int) or isinstance(registration_id, bool):
            raise InvalidInput("registration ID must be a whole number")
        found = [m for m in self.list_macs(tenant) if m.id == registration_id]
        if not found:
            raise NotFound(f"no home-PC registration {registration_id} in tenant {tenant!r}")
        with self._db.write() as conn:
            conn.execute(sa.delete(home_macs).where(home_macs.c.id == registration_id))
        return found[0]

    def set_host_central_macs(self, tenant: str, host_id: str, on: bool) -> None:
        """Switch the office PC's central MAC check on (with an empty central list: nobody
        passes it) or off. Off is refused while its central list holds a home PC: that list
        is applied whatever the switch says, so switching it off would change nothing."""
        tenant, host_id = canonical_tenant(tenant), checked_host_id(host_id)
        if not isinstance(on, bool):
            raise InvalidInput("central_macs must be true or false")
        with self._db.write() as conn:
            require_host(conn, tenant, host_id)
            held = len(macs_for_host(conn, host_id))
            if not on and held:
                raise InvalidInput(
                    f"the central MAC list of office PC {host_id} holds {held} home PCs: "
                    "delete them (or withdraw their users' grants) before switching it off"
                )
            conn.execute(sa.update(hosts).where(hosts.c.host_id == host_id).values(central_macs=on))

    def central_mac_count(self, host_id: str) -> int:
        with self._db.read() as conn:
            return len(macs_for_host(conn, host_id))


def macs_for_host(conn: sa.Connection, host_id: str) -> set[str]:
    """The office PC's central list: its own registrations and those of users granted it."""
    own = sa.select(home_macs.c.mac).where(home_macs.c.host_id == host_id)
    granted = (
        sa.select(home_macs.c.mac)
        .join(grants, grants.c.user_id == home_macs.c.user_id)
        .where(grants.c.host_id == host_id)
    )
    return {row.mac for row in conn.execute(sa.union(own, granted))}


def join_central_list(conn: sa.Connection, host_id: str, adding: set[str]) -> None:
    """Before ``adding`` joins the host's central list: InvalidInput if it would take the list
    past MAX_MACS; else, if it adds any, the host's central check is on from now on."""
    if len(macs_for_host(conn, host_id) | adding) > MAX_MACS:
        raise InvalidInput(f"office PC {host_id} would have more than {MAX_MACS} home PCs")
    if adding:
        conn.execute(sa.update(hosts).where(hosts.c.host_id == host_id).values(central_macs=True))


def central_check_on(macs: set[str], switched_on: bool) -> frozenset[str] | None:
    """The central list an office PC is sent: None (no central check) only while it has never
    held a home PC or an admin switched the check off; an emptied list refuses everyone."""
    return frozenset(macs) if macs or switched_on else None
