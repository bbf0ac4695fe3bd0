"""A tenant's syslog collector: read, set (checked: a refusal changes nothing) and cleared by
the tenant's admins, each change audited and followed by this relay node at once (the others
within relay.syslog.SYSLOG_REFRESH_S)."""

from __future__ import annotations

from typing import Any

from core.syslog import SyslogConfigError, SyslogDestination, parse_destination
from relay.admin.errors import BadRequest, ErrorCode
from relay.admin.services.backend import Backend, Record, Scope


def describe(tenant: str, destination: SyslogDestination | None) -> dict[str, Any]:
    """The collector as the API shows it (the CA as its PEM, the pin as 64 hex digits)."""
    if destination is None:
        return {
            "tenant": tenant,
            "url": None,
            "encrypted": None,
            "ca_pem": None,
            "fingerprint": None,
        }
    return {
        "tenant": tenant,
        "url": destination.url,
        "encrypted": destination.encrypted,
        "ca_pem": destination.ca_pem,
        "fingerprint": destination.fingerprint,
    }


class SyslogService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.directory = backend.directory

    async def get(self, tenant: str) -> dict[str, Any]:
        return describe(tenant, await self.backend.db(self.directory.get_syslog, tenant))

    async def set(
        self, scope: Scope, url: str, ca_pem: str | None, fingerprint: str | None
    ) -> dict[str, Any]:
        try:
            destination = parse_destination(
                url, ca_pem=ca_pem or None, fingerprint=fingerprint or None
            )
        except SyslogConfigError as exc:
            raise BadRequest(str(exc), ErrorCode(exc.code), **exc.params) from None
        detail = {
            "url": destination.url,
            "encrypted": destination.encrypted,
            "trust": "ca"
            if destination.ca_pem
            else "fingerprint"
            if destination.fingerprint
            else "system"
            if destination.encrypted
            else None,
        }
        await self.backend.change(
            scope,
            Record("syslog_set", detail=detail),
            self.directory.set_syslog,
            scope.tenant,
            destination,
            now=self.backend.clock(),
        )
        self.backend.server.syslog.set_tenant(scope.tenant, destination)
        return describe(scope.tenant, destination)

    async def clear(self, scope: Scope) -> dict[str, Any]:
        await self.backend.change(
            scope,
            Record("syslog_clear"),
            self.directory.set_syslog,
            scope.tenant,
            None,
            now=self.backend.clock(),
        )
        self.backend.server.syslog.set_tenant(scope.tenant, None)
        return describe(scope.tenant, None)
