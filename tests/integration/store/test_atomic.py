"""Atomic blocks: a change and its audit record are committed together or not at all, on
SQLite and PostgreSQL; writes in a block share one transaction and take the writer lock once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from relay.store.directory import Directory
from relay.store.errors import AlreadyExists
from relay.store.schema import tenants
from relay.store.staff import OtpResult
from tests.integration.audit_faults import AuditInsertFailed, audit_inserts_fail

NOW = 1_800_000_000.0
TENANT = "横浜市"


@pytest.fixture
def directory(tmp_path: Path, database_url: str | None) -> Iterator[Directory]:
    with Directory.open(tmp_path, database=database_url) as opened:
        opened.add_tenant(TENANT, now=NOW)
        yield opened


def events(directory: Directory) -> list[str]:
    return [r.event for r in directory.list_audit()]


def test_a_change_and_its_record_are_committed_together(directory: Directory) -> None:
    with directory.atomic():
        directory.add_user(TENANT, "taro", now=NOW)
        directory.audit("admin.staff_add", tenant=TENANT, user="taro", now=NOW)
    assert directory.get_user(TENANT, "taro") is not None
    assert events(directory) == ["admin.staff_add"]


def test_a_record_that_cannot_be_written_takes_its_change_with_it(directory: Directory) -> None:
    directory.add_user(TENANT, "taro", now=NOW)
    with audit_inserts_fail() as refused, pytest.raises(AuditInsertFailed), directory.atomic():
        directory.add_user(TENANT, "jiro", now=NOW)
        directory.set_user_disabled(TENANT, "taro", True)
        directory.issue_codes(TENANT, "taro", 2, now=NOW)
        directory.audit("admin.staff_add", tenant=TENANT, user="jiro", now=NOW)
    assert refused  # the failure was reached, after the changes
    assert directory.get_user(TENANT, "jiro") is None
    user = directory.get_user(TENANT, "taro")
    assert user is not None and not user.disabled
    assert directory.unused_code_count(TENANT, "taro") == 0
    assert events(directory) == []
    # Nothing is left half-done either: the same change and record go through now.
    with directory.atomic():
        directory.add_user(TENANT, "jiro", now=NOW)
        directory.audit("admin.staff_add", tenant=TENANT, user="jiro", now=NOW)
    assert events(directory) == ["admin.staff_add"]


def test_an_error_after_the_record_rolls_back_both(directory: Directory) -> None:
    with pytest.raises(RuntimeError, match="crash"), directory.atomic():
        directory.add_user(TENANT, "taro", now=NOW)
        directory.audit("admin.staff_add", tenant=TENANT, user="taro", now=NOW)
        raise RuntimeError("crash")
    assert directory.get_user(TENANT, "taro") is None
    assert events(directory) == []


def test_a_consumed_otp_and_its_record_commit_together(directory: Directory) -> None:
    _, secret = directory.add_user(TENANT, "taro", now=NOW)
    codes = directory.issue_codes(TENANT, "taro", 1, now=NOW)
    totp = pyotp.TOTP(secret).at(NOW)
    for otp, accepted in ((totp, OtpResult.TOTP_OK), (codes[0], OtpResult.CODE_OK)):
        with audit_inserts_fail(), pytest.raises(AuditInsertFailed), directory.atomic():
            assert directory.verify_otp(TENANT, "taro", otp, NOW) is accepted
            directory.audit("otp_used", tenant=TENANT, user="taro", now=NOW)
        # Not consumed: its record could not be written.
        with directory.atomic():
            assert directory.verify_otp(TENANT, "taro", otp, NOW) is accepted
            directory.audit("otp_used", tenant=TENANT, user="taro", now=NOW)
        assert directory.verify_otp(TENANT, "taro", otp, NOW) is OtpResult.WRONG  # used once
    assert events(directory) == ["otp_used", "otp_used"]


def test_reads_in_a_block_see_its_writes_and_others_see_them_at_commit(
    tmp_path: Path, database_url: str | None, directory: Directory
) -> None:
    with Directory.open(tmp_path, database=database_url) as other:
        with directory.atomic():
            directory.add_user(TENANT, "taro", now=NOW)
            assert directory.get_user(TENANT, "taro") is not None
            assert other.get_user(TENANT, "taro") is None
        assert other.get_user(TENANT, "taro") is not None


def test_an_error_inside_a_block_undoes_only_the_write_that_raised_it(
    directory: Directory,
) -> None:
    with directory.atomic():
        directory.add_user(TENANT, "taro", now=NOW)
        with pytest.raises(AlreadyExists):
            directory.add_user(TENANT, "taro", now=NOW)
        # A database's own error (after which PostgreSQL refuses the rest of a transaction).
        with pytest.raises(sa.exc.IntegrityError), directory._db.write() as conn:
            conn.execute(sa.insert(tenants).values(name=TENANT, created_at=NOW))
        directory.audit("admin.staff_add", tenant=TENANT, user="taro", now=NOW)
    assert directory.get_user(TENANT, "taro") is not None
    assert events(directory) == ["admin.staff_add"]


def test_writes_in_a_block_open_one_transaction_and_take_the_writer_lock_once(
    directory: Directory,
) -> None:
    engine = directory._db._engine
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        done = threading.Event()

        def block() -> None:
            with directory.atomic(), directory.atomic():  # nested: part of the outer one
                directory.add_user(TENANT, "taro", now=NOW)
                directory.set_user_disabled(TENANT, "taro", True)
                directory.audit("admin.staff_add", tenant=TENANT, user="taro", now=NOW)
                directory.audit("admin.staff_disable", tenant=TENANT, user="taro", now=NOW)
            done.set()

        worker = threading.Thread(target=block, daemon=True)
        worker.start()
        # A second writer lock on another connection would wait for the first for ever.
        assert done.wait(30), "the block's writes waited for each other"
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    writer_locks = [s for s in statements if "pg_advisory_xact_lock" in s or "IMMEDIATE" in s]
    assert len(writer_locks) == 1
    assert events(directory) == ["admin.staff_add", "admin.staff_disable"]
