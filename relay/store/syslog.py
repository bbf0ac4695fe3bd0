"""Each tenant's syslog collector: where copies of its audit records go (core.syslog)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.syslog import SyslogDestination, parse_destination
from relay.store.database import Database
from relay.store.inputs import canonical_tenant
from relay.store.schema import MAX_SYSLOG_URL_LEN, tenant_settings, tenants
from relay.store.tenants import require_tenant, upsert_tenant_settings


class SyslogSettings:
    """Reading and setting tenants' syslog collectors."""

    _db: Database

    def get_syslog(self, tenant: str) -> SyslogDestination | None:
        """The tenant's collector, None if it has none."""
        tenant = canonical_tenant(tenant)
        with self._db.read() as conn:
            tenant_id = require_tenant(conn, tenant)
            row = conn.execute(
                sa.select(
                    tenant_settings.c.syslog_url,
                    tenant_settings.c.syslog_ca_pem,
                    tenant_settings.c.syslog_fingerprint,
                ).where(tenant_settings.c.tenant_id == tenant_id)
            ).first()
        return None if row is None else _destination(row)

    def all_syslog(self) -> dict[str, SyslogDestination]:
        """Every tenant's collector, by tenant name."""
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(
                    tenants.c.name,
                    tenant_settings.c.syslog_url,
                    tenant_settings.c.syslog_ca_pem,
                    tenant_settings.c.syslog_fingerprint,
                )
                .join(tenants, tenants.c.id == tenant_settings.c.tenant_id)
                .where(tenant_settings.c.syslog_url.is_not(None))
            ).all()
        found = {row.name: _destination(row) for row in rows}
        return {name: dest for name, dest in found.items() if dest is not None}

    def set_syslog(
        self, tenant: str, destination: SyslogDestination | None, *, now: float | None = None
    ) -> None:
        """Set the tenant's collector (None: none). ``destination`` comes checked from
        :func:`core.syslog.parse_destination`."""
        tenant = canonical_tenant(tenant)
        url = None if destination is None else destination.url
        assert url is None or len(url) <= MAX_SYSLOG_URL_LEN  # parse_destination bounds it
        with self._db.write() as conn:
            tenant_id = require_tenant(conn, tenant)
            upsert_tenant_settings(
                conn,
                tenant_id,
                self._db.now(now),
                syslog_url=url,
                syslog_ca_pem=destination.ca_pem if destination else None,
                syslog_fingerprint=destination.fingerprint if destination else None,
            )


def _destination(row: Any) -> SyslogDestination | None:
    if row.syslog_url is None:
        return None
    return parse_destination(
        row.syslog_url, ca_pem=row.syslog_ca_pem, fingerprint=row.syslog_fingerprint
    )
