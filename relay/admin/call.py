"""What an admin API handler receives (:class:`Call`: the checked request) and may return
besides a JSON value: CSV (:class:`Csv`), JSON already encoded (:class:`Encoded`), both made
where they are built (a report's thread, :mod:`relay.admin.reports`), not on the event loop,
or a large answer made and sent a part at a time there (:class:`Streamed`)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
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
    """A handler's answer when the client asked for CSV, as UTF-8."""

    def __init__(self, filename: str, header: list[str], rows: Iterable[Sequence[Any]]) -> None:
        self.filename = filename
        self.body = to_csv(header, rows).encode()


@dataclass
class Streamed:
    """A large answer of ``tenant``'s, made a part at a time: each ``next(parts)`` runs in the
    report's thread (:meth:`relay.admin.reports.ReportJobs.job`), and is sent before the next is
    made, so neither the event loop nor memory holds the whole."""

    tenant: str
    content_type: str
    parts: Iterator[bytes]
    filename: str | None = None


class Encoded:
    """A handler's JSON answer, encoded as the API answers every JSON value."""

    def __init__(self, value: Any) -> None:
        self.body = json.dumps(value).encode()
