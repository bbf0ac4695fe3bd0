"""Grants: which staff user may use which office PC of their tenant."""

from __future__ import annotations

import sqlalchemy as sa

from relay.store.database import Database
from relay.store.home_pcs import join_central_list
from relay.store.hosts import require_host
from relay.store.inputs import (
    canonical_login,
    canonical_names,
    canonical_tenant,
    checked_host_id,
    page_rows,
)
from relay.store.schema import grants, home_macs, hosts, resume_tickets, tenants, users
from relay.store.staff import require_user
from relay.store.tenants import require_tenant


class Grants:
    """Granting, revoking, checking and listing who may use which office PC."""

    _db: Database

    def grant(self, tenant: str, login: str, host_id: str, *, now: float | None = None) -> None:
        """Allow the user to use the host (both in ``tenant``). Granting twice is harmless.

        The user's home PCs join the host's central list: refused if it would grow past the
        policy's MAX_MACS (the host would reject the whole policy). Checked in the same write
        transaction as the insert, so grants racing each other cannot both slip under it.
        """
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        host_id = checked_host_id(host_id)
        created = self._db.now(now)
        try:
            with self._db.write() as conn:
                user_id = require_user(conn, tenant, login)
                require_host(conn, tenant, host_id)
                existing = conn.execute(
                    sa.select(grants.c.user_id).where(
                        grants.c.user_id == user_id, grants.c.host_id == host_id
                    )
                ).first()
                if existing is None:
                    user_macs = conn.execute(
                        sa.select(home_macs.c.mac).where(home_macs.c.user_id == user_id)
                    )
                    join_central_list(conn, host_id, {row.mac for row in user_macs})
                    conn.execute(
                        sa.insert(grants).values(
                            user_id=user_id, host_id=host_id, created_at=created
                        )
                    )
        except sa.exc.IntegrityError:
            pass  # a concurrent grant of the same pair won: the grant exists, as asked

    def revoke(self, tenant: str, login: str, host_id: str) -> bool:
        """Withdraw a grant; True if there was one. Resume tickets for the pair go too."""
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        host_id = checked_host_id(host_id)
        with self._db.write() as conn:
            user_id = require_user(conn, tenant, login)
            removed = conn.execute(
                sa.delete(grants).where(grants.c.user_id == user_id, grants.c.host_id == host_id)
            ).rowcount
            conn.execute(
                sa.delete(resume_tickets).where(
                    resume_tickets.c.user_id == user_id, resume_tickets.c.host_id == host_id
                )
            )
        return removed > 0

    def is_granted(self, tenant: str, login: str, host_id: str) -> bool:
        """True if the user may use the host: granted, same tenant, host not retired, user not
        disabled."""
        names = canonical_names(tenant, login)
        if names is None or not isinstance(host_id, str):
            return False
        with self._db.read() as conn:
            return granted(conn, names[0], names[1], host_id)

    def list_grants(
        self,
        tenant: str,
        *,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, str]]:
        """(login, host ID) pairs granted in ``tenant``, in that order: those after the pair
        ``after`` if given, at most ``limit`` if given (a page)."""
        tenant, limit = canonical_tenant(tenant), page_rows(limit)
        with self._db.read() as conn:
            query = (
                sa.select(users.c.login, grants.c.host_id)
                .join(users, users.c.id == grants.c.user_id)
                .where(users.c.tenant_id == require_tenant(conn, tenant))
                .order_by(users.c.login, grants.c.host_id)
                .limit(limit)
            )
            if after is not None:
                login, host_id = after
                # The first condition alone lets the database start in the logins' index.
                query = query.where(
                    users.c.login >= login,
                    sa.or_(users.c.login > login, grants.c.host_id > host_id),
                )
            rows = conn.execute(query).all()
        return [(row.login, row.host_id) for row in rows]

    def hosts_affected_by_user(self, tenant: str, login: str) -> list[str]:
        """The office PCs a user is granted (their MACs are part of those PCs' lists)."""
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        with self._db.read() as conn:
            require_tenant(conn, tenant)
            rows = conn.execute(
                sa.select(grants.c.host_id)
                .join(users, users.c.id == grants.c.user_id)
                .join(tenants, tenants.c.id == users.c.tenant_id)
                .where(tenants.c.name == tenant, users.c.login == login)
                .order_by(grants.c.host_id)
            ).all()
        return [row.host_id for row in rows]


def granted(conn: sa.Connection, tenant: str, login: str, host_id: str) -> bool:
    """True if the grant exists, within one tenant, for a live host and an enabled user."""
    found = conn.execute(
        sa.select(grants.c.host_id)
        .join(users, users.c.id == grants.c.user_id)
        .join(tenants, tenants.c.id == users.c.tenant_id)
        .join(hosts, hosts.c.host_id == grants.c.host_id)
        .where(
            tenants.c.name == tenant,
            users.c.login == login,
            grants.c.host_id == host_id,
            hosts.c.tenant_id == users.c.tenant_id,
            sa.not_(hosts.c.retired),
            sa.not_(users.c.disabled),
        )
    ).first()
    return found is not None
