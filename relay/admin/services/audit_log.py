"""Searching a tenant's audit log for the admin API."""

from __future__ import annotations

from relay.admin.services.backend import Backend
from relay.store.audit import AuditRecord


class AuditLogService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def search(
        self,
        tenant: str,
        *,
        since: float | None,
        until: float | None,
        user: str | None,
        host_id: str | None,
        event: str | None,
        limit: int,
    ) -> list[AuditRecord]:
        """The newest ``limit`` records matching, oldest first (the store matches ``user``
        however it is typed)."""
        return await self.backend.db(
            self.backend.directory.list_audit,
            tenant=tenant,
            since=since,
            until=until,
            user=user,
            host_id=host_id,
            event=event,
            limit=limit,
        )
