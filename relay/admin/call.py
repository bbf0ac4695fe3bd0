"""What an admin API handler receives (:class:`Call`: the checked request) and may return
besides JSON (:class:`Csv`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from relay.admin import params
from relay.admin.auth import AdminSession
from relay.admin.service import AdminService
from relay.admin.services.backend import Scope
from relay.admin.usage import to_csv


@dataclass
class Call:
    """One request as a handler sees it: who, which tenant, the checked body and query."""

    request: web.Request
    service: AdminService
    who: AdminSession | None
    token: str
    tenant: str
    body: Any
    query: dict[str, Any]

    @property
    def source(self) -> str:
        return self.request.remote or "unknown"

    @property
    def admin(self) -> AdminSession:
        assert self.who is not None
        return self.who

    @property
    def scope(self) -> Scope:
        """The signed-in admin acting on the path's tenant, from this request's address."""
        return Scope(self.admin, self.source, self.tenant)

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    def host_id(self) -> str:
        return params.host_id(self.path("host_id"))


Handler = Callable[[Call], Awaitable[Any]]


class Csv:
    """A handler's answer when the client asked for CSV."""

    def __init__(self, filename: str, header: list[str], rows: list[list[Any]]) -> None:
        self.filename = filename
        self.text = to_csv(header, rows)
