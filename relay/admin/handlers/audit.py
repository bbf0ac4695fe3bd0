"""Handler for searching a tenant's audit log, as JSON or CSV: made and sent a page at a time
in a report's thread (:class:`relay.admin.call.Streamed`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from relay.admin import params
from relay.admin.call import Call, Streamed
from relay.admin.usage import csv_header, csv_rows
from relay.store.audit import AuditRecord

# Audit records one query returns by default.
DEFAULT_AUDIT_ROWS = 1000
AUDIT_COLUMNS = ["id", "time", "event", "tenant", "user", "host_id", "source", "detail"]


def _csv_row(r: AuditRecord) -> list[Any]:
    return [
        r.id,
        dt.datetime.fromtimestamp(r.ts).astimezone().isoformat(timespec="seconds"),
        r.event,
        r.tenant,
        r.user,
        r.host_id,
        r.source,
        json.dumps(r.detail, ensure_ascii=False, sort_keys=True),
    ]


def _csv_parts(pages: Iterable[list[AuditRecord]]) -> Iterator[bytes]:
    yield csv_header(AUDIT_COLUMNS).encode()
    for page in pages:
        yield csv_rows(map(_csv_row, page)).encode()


def _json_parts(pages: Iterable[list[AuditRecord]]) -> Iterator[bytes]:
    """``{"records": [...]}`` as one json.dumps of it all would write it, a page at a time."""
    yield b'{"records": ['
    separator = b""
    for page in pages:
        yield separator + json.dumps([dataclasses.asdict(r) for r in page]).encode()[1:-1]
        separator = b", "
    yield b"]}"


async def audit(call: Call) -> Any:
    q = call.query
    pages = call.service.audit_log.search(
        call.tenant,
        since=q.get("since"),
        until=q.get("until"),
        user=q.get("user"),
        host_id=None if q.get("host_id") is None else params.host_id(q["host_id"]),
        event=q.get("event"),
        limit=q.get("limit") or DEFAULT_AUDIT_ROWS,
    )
    if q.get("format") == "csv":
        return Streamed(
            call.tenant, "text/csv; charset=utf-8", _csv_parts(pages), f"audit-{call.tenant}.csv"
        )
    return Streamed(call.tenant, "application/json; charset=utf-8", _json_parts(pages))
