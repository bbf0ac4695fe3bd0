"""Central registration of home PCs: the tenant's signing key (its public half; the private
half never leaves the admins' PCs) and each office PC's signed list, stored and pushed to the
office PC, which verifies it against the key it pinned at enrolment."""

from __future__ import annotations

from typing import Any

from core.hostpolicy.signed_devices import SignedDeviceList, SignedListError, key_fingerprint
from relay.admin.errors import BadRequest, Conflict, ErrorCode
from relay.admin.services.backend import Backend, Record, Scope


def describe_key(tenant: str, public_key: str | None) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "public_key": public_key,
        "fingerprint": key_fingerprint(public_key) if public_key else None,
    }


class SignedDeviceService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def signing_key(self, tenant: str) -> dict[str, Any]:
        return describe_key(tenant, await self.backend.db(self.directory.get_signing_key, tenant))

    async def set_signing_key(self, scope: Scope, public_key: str, replace: bool) -> dict[str, Any]:
        """Upload the public half of the tenant's signing key. Changing it is deliberate
        (``replace``): office PCs pinned the old one and apply nothing the new one signs
        until they are pinned again."""
        try:
            key_fingerprint(public_key)  # bad input is refused before anything else
        except SignedListError as exc:
            raise BadRequest(f"not a signing key: {exc}", ErrorCode.INVALID_INPUT) from None
        current = await self.backend.db(self.directory.get_signing_key, scope.tenant)
        if current is not None and current != public_key and not replace:
            raise Conflict(
                "the municipality already has another signing key; office PCs pinned it",
                ErrorCode.SIGNING_KEY_EXISTS,
            )
        await self.backend.change(
            scope,
            lambda _: Record(
                "signing_key_set",
                detail={
                    "fingerprint": key_fingerprint(public_key),
                    "replaced": current is not None,
                },
            ),
            self.directory.set_signing_key,
            scope.tenant,
            public_key,
            now=self.backend.clock(),
        )
        return describe_key(scope.tenant, public_key)

    async def device_list(self, tenant: str, host_id: str) -> dict[str, Any]:
        signed = await self.backend.db(self.directory.get_device_list, tenant, host_id)
        return {"host_id": host_id, "signed": signed.to_json() if signed else None}

    async def set_device_list(
        self, scope: Scope, host_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a signed list (checked against the tenant's key, serial above the stored
        one) and push it to the office PC if it is online."""
        signed = SignedDeviceList(body["payload"], body["signature"], body["public_key"])
        central = await self.backend.change(
            scope,
            lambda central: Record(
                "device_list_set",
                host_id=host_id,
                detail={
                    "serial": central.serial,
                    "devices": [d.code for d in central.devices],
                },
            ),
            self.directory.set_device_list,
            scope.tenant,
            host_id,
            signed,
            now=self.backend.clock(),
        )
        pushed = await self.backend.server.push_device_list(host_id)
        return {
            "host_id": host_id,
            "serial": central.serial,
            "devices": len(central.devices),
            "pushed": pushed,
        }
