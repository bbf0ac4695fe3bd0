"""Tenants (the municipalities one relay serves) and the lookups every other part starts from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from relay.store.database import Database
from relay.store.errors import AlreadyExists, InvalidInput, NotFound
from relay.store.inputs import canonical_tenant
from relay.store.schema import tenant_settings, tenants


@dataclass(frozen=True)
class Tenant:
    name: str
    created_at: float


class Tenants:
    """Adding, finding and listing tenants."""

    _db: Database

    def add_tenant(self, name: str, *, now: float | None = None) -> Tenant:
        name = canonical_tenant(name)
        created = self._db.now(now)
        try:
            with self._db.write() as conn:
                if tenant_id(conn, name) is not None:
                    raise AlreadyExists(f"tenant {name!r} already exists")
                conn.execute(sa.insert(tenants).values(name=name, created_at=created))
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"tenant {name!r} already exists") from None
        return Tenant(name, created)

    def get_tenant(self, name: str) -> Tenant | None:
        try:
            name = canonical_tenant(name)
        except InvalidInput:
            return None
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(tenants.c.name, tenants.c.created_at).where(tenants.c.name == name)
            ).first()
        return None if row is None else Tenant(row.name, row.created_at)

    def list_tenants(self) -> list[Tenant]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(tenants.c.name, tenants.c.created_at).order_by(tenants.c.name)
            ).all()
        return [Tenant(row.name, row.created_at) for row in rows]


def tenant_id(conn: sa.Connection, tenant: str) -> int | None:
    return conn.execute(sa.select(tenants.c.id).where(tenants.c.name == tenant)).scalar()


def require_tenant(conn: sa.Connection, tenant: str) -> int:
    """The tenant's row ID; :class:`NotFound` if there is no such tenant."""
    found = tenant_id(conn, tenant)
    if found is None:
        raise NotFound(f"no tenant {tenant!r}")
    return found


def upsert_tenant_settings(conn: sa.Connection, tenant_id: int, now: float, **values: Any) -> None:
    """Set columns of the tenant's settings row (policy, bandwidth limits), creating the row."""
    exists = conn.execute(
        sa.select(tenant_settings.c.tenant_id).where(tenant_settings.c.tenant_id == tenant_id)
    ).first()
    if exists is None:
        conn.execute(
            sa.insert(tenant_settings).values(tenant_id=tenant_id, updated_at=now, **values)
        )
    else:
        conn.execute(
            sa.update(tenant_settings)
            .where(tenant_settings.c.tenant_id == tenant_id)
            .values(updated_at=now, **values)
        )
