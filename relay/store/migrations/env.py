"""Alembic environment for the directory store.

The relay runs migrations programmatically (relay.store.migrate) and hands over its own open
connection in ``config.attributes["connection"]``; hand-run ``alembic`` commands fall back to
the URL in the configuration. Logging is left as the caller configured it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from relay.store.schema import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
