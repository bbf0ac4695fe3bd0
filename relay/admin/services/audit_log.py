"""Searching a tenant's audit log for the admin API: a report (:mod:`relay.admin.reports`),
read a page at a time."""

from __future__ import annotations

from collections.abc import Iterator

from relay.admin.services.backend import Backend
from relay.store.audit import AuditRecord


class AuditLogService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def search(
        self,
        tenant: str,
        *,
        since: float | None,
        until: float | None,
        user: str | None,
        host_id: str | None,
        event: str | None,
        limit: int,
    ) -> Iterator[list[AuditRecord]]:
        """The newest ``limit`` records matching, oldest first, in pages (the store matches
        ``user`` however it is typed). Nothing is read until the first page is asked for:
        each is read where it is asked for (a report's thread), blocking."""
        return self.backend.directory.audit_pages(
            tenant=tenant,
            since=since,
            until=until,
            user=user,
            host_id=host_id,
            events=None if event is None else [event],
            limit=limit,
        )
