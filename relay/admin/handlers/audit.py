"""Handler for searching a tenant's audit log, as JSON or CSV (made in a report's thread)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from relay.admin import params
from relay.admin.call import Call, Csv, Encoded
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


def _csv(tenant: str) -> Callable[[list[AuditRecord]], Csv]:
    return lambda records: Csv(f"audit-{tenant}.csv", AUDIT_COLUMNS, map(_csv_row, records))


def _json(records: list[AuditRecord]) -> Encoded:
    return Encoded({"records": [dataclasses.asdict(r) for r in records]})


async def audit(call: Call) -> Any:
    q = call.query
    return await call.service.audit_log.search(
        call.tenant,
        _csv(call.tenant) if q.get("format") == "csv" else _json,
        since=q.get("since"),
        until=q.get("until"),
        user=q.get("user"),
        host_id=None if q.get("host_id") is None else params.host_id(q["host_id"]),
        event=q.get("event"),
        limit=q.get("limit") or DEFAULT_AUDIT_ROWS,
    )
