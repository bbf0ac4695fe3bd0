"""The audit log: records appended durably (committed on return, or with the change they record
in an atomic block) and queried by the admin API."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from relay.store.database import Database
from relay.store.errors import InvalidInput
from relay.store.inputs import canonical_login, canonical_tenant, clip
from relay.store.schema import (
    MAX_AUDIT_EVENT_LEN,
    MAX_AUDIT_SOURCE_LEN,
    MAX_HOST_ID_LEN,
    MAX_LOGIN_LEN,
    MAX_TENANT_NAME_LEN,
    audit,
)

# Largest audit detail, as UTF-8 JSON: enough for MAC lists and byte counts, small enough that
# the log cannot be used to fill the disk quickly.
MAX_AUDIT_DETAIL_BYTES = 8 * 1024
# Most audit records one list_audit call returns.
MAX_AUDIT_LIMIT = 100_000
DEFAULT_AUDIT_LIMIT = 1000
# Records one page of audit_pages holds: a report holds one page at a time, so a large report
# keeps few objects alive (and the garbage collector's pauses, which stop every thread, short).
AUDIT_PAGE_ROWS = 2000
# How long before a session's end its session_start may be: the longest a policy lets a session
# run, plus margin (how far back usage reports and the restart clean-up look).
SESSION_LOOKBACK_S = 2 * 24 * 3600.0

log = logging.getLogger("telework.store")

# One statement, its values passed apart: built and cached once, not per record (a rush of
# office PCs writes thousands a second).
_INSERT_RECORD = sa.insert(audit)

_EVENT_PATTERN = re.compile(rf"[a-z][a-z0-9_.-]{{0,{MAX_AUDIT_EVENT_LEN - 1}}}")


@dataclass(frozen=True)
class AuditRecord:
    id: int
    ts: float
    event: str
    tenant: str | None
    user: str | None
    host_id: str | None
    source: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class WrittenRecord:
    """An audit record as committed (names cut to their columns), for those who copy it on
    (syslog): :attr:`AuditLog.audit_listeners` get each one once it is committed."""

    ts: float
    event: str
    tenant: str | None
    user: str | None
    host_id: str | None
    source: str | None
    detail_json: str  # as stored: sorted keys, UTF-8 text


class AuditLog:
    """Appending to the audit log and reading it back."""

    _db: Database
    # Called, in the writing thread, with each record once committed: they must be quick and
    # thread-safe (hand the record to an event loop), and never raise (if one does, it is
    # logged: the record stands).
    audit_listeners: list[Callable[[WrittenRecord], None]]

    def audit(
        self,
        event: str,
        *,
        tenant: str | None = None,
        user: str | None = None,
        host_id: str | None = None,
        source: str | None = None,
        detail: dict[str, Any] | None = None,
        now: float,
    ) -> None:
        """Append an audit record and commit it at once (durable on return); in an atomic
        block (:meth:`Directory.atomic`), with the block's other writes or not at all.

        ``event`` is a code we choose (``[a-z][a-z0-9_.-]*``). Names may come from a peer, so
        they are cut to their column size rather than refused: the record must always be made.
        """
        if not isinstance(event, str) or not _EVENT_PATTERN.fullmatch(event):
            raise InvalidInput(f"audit event must match {_EVENT_PATTERN.pattern}")
        try:
            detail_json = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"audit detail is not JSON-serialisable: {exc}") from None
        if len(detail_json.encode()) > MAX_AUDIT_DETAIL_BYTES:
            raise InvalidInput(f"audit detail is larger than {MAX_AUDIT_DETAIL_BYTES} bytes")
        written = WrittenRecord(
            ts=now,
            event=event,
            tenant=clip(tenant, MAX_TENANT_NAME_LEN),
            user=clip(user, MAX_LOGIN_LEN),
            host_id=clip(host_id, MAX_HOST_ID_LEN),
            source=clip(source, MAX_AUDIT_SOURCE_LEN),
            detail_json=detail_json,
        )
        with self._db.write() as conn:
            conn.execute(
                _INSERT_RECORD,
                {
                    "ts": now,
                    "event": event,
                    "tenant": written.tenant,
                    "login": written.user,
                    "host_id": written.host_id,
                    "source": written.source,
                    "detail": detail_json,
                },
            )
        if self.audit_listeners:
            self._db.after_commit(lambda: self._announce(written))

    def _announce(self, record: WrittenRecord) -> None:
        for listener in list(self.audit_listeners):
            try:
                listener(record)
            except Exception:  # a copy's failure must not undo or hide the record
                log.exception("audit listener failed on %s", record.event)

    def list_audit(
        self,
        tenant: str | None = None,
        since: float | None = None,
        until: float | None = None,
        user: str | None = None,
        host_id: str | None = None,
        event: str | None = None,
        limit: int = DEFAULT_AUDIT_LIMIT,
    ) -> list[AuditRecord]:
        """The newest ``limit`` matching records, oldest first. ``since`` <= ts < ``until``.

        ``user`` matches however it is typed ("ｓａｔｏ" finds "sato"), as records keep logins
        as stored; text that no login can be (a refused login's typed name) matches as is.
        """
        query = _matching(tenant, since, until, user, host_id, None if event is None else [event])
        _check_limit(limit)
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(audit.c.id.desc()).limit(limit)).all()
        return [_record(row) for row in reversed(rows)]

    def audit_pages(
        self,
        tenant: str | None = None,
        since: float | None = None,
        until: float | None = None,
        user: str | None = None,
        host_id: str | None = None,
        events: Collection[str] | None = None,
        limit: int | None = DEFAULT_AUDIT_LIMIT,
        page_rows: int = AUDIT_PAGE_ROWS,
    ) -> Iterator[list[AuditRecord]]:
        """What :meth:`list_audit` answers (of any of ``events``; every match if ``limit`` is
        None: the caller bounds what it keeps), in pages of ``page_rows`` records, oldest first,
        each read in a transaction of its own: the caller holds one page at a time, never the
        whole. Records written meanwhile are not included."""
        query = _matching(tenant, since, until, user, host_id, events)
        if limit is not None:
            _check_limit(limit)
        if not isinstance(page_rows, int) or page_rows < 1:
            raise InvalidInput("audit page_rows must be positive")
        ids = query.with_only_columns(audit.c.id).order_by(audit.c.id.desc())
        with self._db.read() as conn:
            newest = conn.execute(ids.limit(1)).scalar()
            oldest = None
            if limit is not None:  # the limit-th newest: where the pages start
                oldest = conn.execute(ids.offset(limit - 1).limit(1)).scalar()
        if newest is None:
            return
        after = -1 if oldest is None else oldest - 1
        while True:
            page = query.where(audit.c.id > after, audit.c.id <= newest)
            with self._db.read() as conn:
                rows = conn.execute(page.order_by(audit.c.id).limit(page_rows)).all()
            if not rows:
                return
            yield [_record(row) for row in rows]
            after = rows[-1].id

    def newest_audit_ts(self) -> float | None:
        """The latest time any audit record names (None for an empty log)."""
        with self._db.read() as conn:
            newest: float | None = conn.execute(sa.select(sa.func.max(audit.c.ts))).scalar()
        return newest

    def last_session_by_host(
        self, tenant: str, host_ids: Collection[str] | None = None
    ) -> dict[str, float]:
        """When each office PC of ``tenant`` (of those in ``host_ids`` if given) last started a
        session (from the audit log)."""
        tenant = canonical_tenant(tenant)
        query = (
            sa.select(audit.c.host_id, sa.func.max(audit.c.ts).label("ts"))
            .where(audit.c.tenant == tenant, audit.c.event == "session_start")
            .group_by(audit.c.host_id)
        )
        if host_ids is not None:
            if not host_ids:
                return {}
            query = query.where(audit.c.host_id.in_(list(host_ids)))
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return {row.host_id: row.ts for row in rows if row.host_id is not None}


def _check_limit(limit: int) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_AUDIT_LIMIT:
        raise InvalidInput(f"audit limit must be between 1 and {MAX_AUDIT_LIMIT}")


def _matching(
    tenant: str | None,
    since: float | None,
    until: float | None,
    user: str | None,
    host_id: str | None,
    events: Collection[str] | None,
) -> sa.Select[Any]:
    """The audit records that match: ``since`` <= ts < ``until``, ``user`` however typed."""
    if user is not None:
        with suppress(InvalidInput):
            user = canonical_login(user)
    query = sa.select(audit)
    for column, value in (
        (audit.c.tenant, tenant),
        (audit.c.login, user),
        (audit.c.host_id, host_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if events is not None:
        query = query.where(audit.c.event.in_(list(events)))
    if since is not None:
        query = query.where(audit.c.ts >= since)
    if until is not None:
        query = query.where(audit.c.ts < until)
    return query


def _record(row: sa.Row[Any]) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        ts=row.ts,
        event=row.event,
        tenant=row.tenant,
        user=row.login,
        host_id=row.host_id,
        source=row.source,
        detail=json.loads(row.detail),
    )
