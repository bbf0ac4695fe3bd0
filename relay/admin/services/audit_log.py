"""Searching a tenant's audit log for the admin API: a report (:mod:`relay.admin.reports`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from relay.admin.services.backend import Backend
from relay.store.audit import AuditRecord

T = TypeVar("T")


class AuditLogService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def search(
        self,
        tenant: str,
        answer: Callable[[list[AuditRecord]], T],
        *,
        since: float | None,
        until: float | None,
        user: str | None,
        host_id: str | None,
        event: str | None,
        limit: int,
    ) -> T:
        """``answer`` (the body to send) of the newest ``limit`` records matching, oldest first
        (the store matches ``user`` however it is typed); both made in a report's thread."""

        def build() -> T:
            return answer(
                self.backend.directory.list_audit(
                    tenant=tenant,
                    since=since,
                    until=until,
                    user=user,
                    host_id=host_id,
                    event=event,
                    limit=limit,
                )
            )

        return await self.backend.reports.run(tenant, build)
