"""Making the audit log's inserts fail, as a full disk or a crash between two statements would:
to show a change and its audit record are committed together or not at all."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from relay.store import schema
from relay.store.directory import Directory


class AuditInsertFailed(sa.exc.OperationalError):
    """What a failed audit insert raises: an OperationalError, as from a full disk."""


@contextmanager
def audit_inserts_fail(event_name: str | None = None) -> Iterator[list[str]]:
    """While in the block, every insert into the audit log (of ``event_name`` only, if given)
    raises :class:`AuditInsertFailed`, on every engine, including ones opened in the block.
    Yields the list of the statements refused (to check the failure was reached)."""
    refused: list[str] = []

    def before(
        _conn: sa.Connection, _cursor: Any, statement: str, parameters: Any, *_args: Any
    ) -> None:
        if not statement.lstrip().upper().startswith("INSERT INTO AUDIT"):
            return
        values = parameters.values() if isinstance(parameters, dict) else parameters
        if event_name is not None and event_name not in tuple(values):
            return
        refused.append(statement)
        raise AuditInsertFailed(
            statement, parameters, sqlite3.OperationalError("database or disk is full")
        )

    event.listen(sa.Engine, "before_cursor_execute", before)
    try:
        yield refused
    finally:
        event.remove(sa.Engine, "before_cursor_execute", before)


def stored_rows(directory: Directory) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit log's, in a fixed order: to check that a failed
    change left nothing behind."""
    with directory._db.read() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in schema.metadata.sorted_tables
            if table is not schema.audit
        }
