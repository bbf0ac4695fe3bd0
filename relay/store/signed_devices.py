"""Central home-PC lists: each tenant's signing key (its public half) and each office PC's
latest signed list (core.hostpolicy.signed_devices). The relay checks what it stores against
the tenant's key, but that is only to catch mistakes early: the office PC verifies every list
itself against the key it pinned, and a relay that wrote anything else here gains nothing."""

from __future__ import annotations

import json

import sqlalchemy as sa

from core.hostpolicy.signed_devices import (
    CentralDeviceList,
    SignedDeviceList,
    SignedListError,
    key_fingerprint,
    open_device_list,
)
from relay.store.database import Database
from relay.store.errors import InvalidInput
from relay.store.hosts import require_host
from relay.store.inputs import canonical_tenant, checked_host_id, is_host_id
from relay.store.schema import MAX_SIGNING_KEY_LEN, host_device_lists, hosts, tenant_settings
from relay.store.tenants import require_tenant, upsert_tenant_settings


class SignedDevices:
    """Tenants' signing keys and office PCs' signed lists of home PCs."""

    _db: Database

    def get_signing_key(self, tenant: str) -> str | None:
        """The public half of the tenant's signing key (base64), None if it has none."""
        tenant = canonical_tenant(tenant)
        with self._db.read() as conn:
            tenant_id = require_tenant(conn, tenant)
            key: str | None = conn.execute(
                sa.select(tenant_settings.c.signing_key).where(
                    tenant_settings.c.tenant_id == tenant_id
                )
            ).scalar()
        return key

    def set_signing_key(self, tenant: str, public_key: str, *, now: float | None = None) -> None:
        """Set the tenant's signing key (its public half, checked). The office PCs' stored
        lists stay: each was signed by the old key, and office PCs that pinned the old key
        keep using them until an admin signs new ones."""
        tenant = canonical_tenant(tenant)
        try:
            key_fingerprint(public_key)
        except SignedListError as exc:
            raise InvalidInput(f"not a signing key: {exc}") from None
        assert len(public_key) <= MAX_SIGNING_KEY_LEN  # 32 bytes in base64, checked above
        with self._db.write() as conn:
            tenant_id = require_tenant(conn, tenant)
            upsert_tenant_settings(conn, tenant_id, self._db.now(now), signing_key=public_key)

    def get_device_list(self, tenant: str, host_id: str) -> SignedDeviceList | None:
        """The office PC's latest signed list, None if none was stored."""
        tenant, host_id = canonical_tenant(tenant), checked_host_id(host_id)
        with self._db.read() as conn:
            require_host(conn, tenant, host_id)
            text = conn.execute(
                sa.select(host_device_lists.c.signed).where(host_device_lists.c.host_id == host_id)
            ).scalar()
        return None if text is None else SignedDeviceList.from_json(json.loads(text))

    def set_device_list(
        self, tenant: str, host_id: str, signed: SignedDeviceList, *, now: float | None = None
    ) -> CentralDeviceList:
        """Store a signed list for a live office PC of ``tenant``: it must verify with the
        tenant's current key, name this tenant and office PC, and carry a serial above the
        stored one (:class:`InvalidInput` says which is wrong; nothing changes)."""
        tenant, host_id = canonical_tenant(tenant), checked_host_id(host_id)
        with self._db.write() as conn:
            require_host(conn, tenant, host_id)
            tenant_id = require_tenant(conn, tenant)
            key = conn.execute(
                sa.select(tenant_settings.c.signing_key).where(
                    tenant_settings.c.tenant_id == tenant_id
                )
            ).scalar()
            if key is None:
                raise InvalidInput("the municipality has no signing key yet")
            try:
                central = open_device_list(signed, key_fingerprint(key))
            except SignedListError as exc:
                raise InvalidInput(f"the signed list is refused: {exc}") from None
            if central.tenant != tenant or central.host_id != host_id:
                raise InvalidInput("the signed list names another municipality or office PC")
            stored = conn.execute(
                sa.select(host_device_lists.c.serial).where(host_device_lists.c.host_id == host_id)
            ).scalar()
            text = json.dumps(signed.to_json(), ensure_ascii=False)
            values = {"serial": central.serial, "signed": text, "updated_at": self._db.now(now)}
            if stored is None:
                conn.execute(sa.insert(host_device_lists).values(host_id=host_id, **values))
            else:
                # Compare and set: of two admins saving at once, the lower serial loses.
                done = conn.execute(
                    sa.update(host_device_lists)
                    .where(
                        host_device_lists.c.host_id == host_id,
                        host_device_lists.c.serial < central.serial,
                    )
                    .values(**values)
                ).rowcount
                if done != 1:
                    raise InvalidInput(
                        f"serial {central.serial} is not above the stored {stored}: "
                        "read the list again and sign it anew"
                    )
        return central

    def device_list_for_host(self, host_id: str) -> SignedDeviceList | None:
        """What the relay pushes to a live office PC as it comes online (never raises for
        an unknown host: None)."""
        if not is_host_id(host_id):
            return None
        with self._db.read() as conn:
            text = conn.execute(
                sa.select(host_device_lists.c.signed)
                .join(hosts, hosts.c.host_id == host_device_lists.c.host_id)
                .where(host_device_lists.c.host_id == host_id, sa.not_(hosts.c.retired))
            ).scalar()
        if text is None:
            return None
        try:
            return SignedDeviceList.from_json(json.loads(text))
        except (ValueError, SignedListError):
            return None
