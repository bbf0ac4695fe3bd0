"""Shared lockouts and admin sign-in tokens in the directory, on SQLite and PostgreSQL: what
two relay nodes sharing one database see, and that the rows stay bounded."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.admin_api import AdminRole
from relay.store.admin_tokens import AdminToken
from relay.store.directory import Directory
from relay.store.errors import InvalidInput
from relay.store.lockouts import LockoutRule, SharedCount, key_digest
from relay.store.schema import admin_tokens, lockout_failures, lockout_locks

NOW = 1_800_000_000.0
USER = LockoutRule("user", 3, 60.0, 300.0)
SOURCE = LockoutRule("source", 5, 60.0, 300.0)


@pytest.fixture
def nodes(tmp_path: Path, database_url: str | None) -> Iterator[tuple[Directory, Directory]]:
    """Two directories over one database, as two relay nodes have them."""
    if database_url is None:
        database_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    with (
        Directory.open(tmp_path, database=database_url) as first,
        Directory.open(tmp_path, database=database_url) as second,
    ):
        yield first, second


def rows(directory: Directory, table: sa.Table) -> int:
    with directory._db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


# --- lockouts -----------------------------------------------------------------------------------


def test_failures_on_two_nodes_lock_the_key_for_both(nodes):
    a, b = nodes
    assert a.count_lockout_failures([(USER, "alice")], NOW)[0].locked_until is None
    assert b.count_lockout_failures([(USER, "alice")], NOW + 1)[0].locked_until is None
    assert a.lockout_counts([("user", "alice")], NOW + 2) == {
        ("user", "alice"): SharedCount(2, None)
    }
    third = b.count_lockout_failures([(USER, "alice")], NOW + 2)[0]
    assert third.counted and third.locked_until == NOW + 2 + USER.lock_s
    for node in (a, b):
        assert node.lockout_counts([("user", "alice")], NOW + 3)[("user", "alice")] == (
            SharedCount(0, NOW + 2 + USER.lock_s)
        )


def test_one_call_counts_a_failure_for_several_keys_and_one_query_reads_them(nodes):
    a, b = nodes
    for i in range(3):
        outcomes = a.count_lockout_failures([(SOURCE, "192.0.2.1"), (USER, "bob")], NOW + i)
    assert [o.locked_until for o in outcomes] == [None, NOW + 2 + USER.lock_s]
    counts = b.lockout_counts([("source", "192.0.2.1"), ("user", "bob"), ("user", "x")], NOW + 3)
    assert counts == {
        ("source", "192.0.2.1"): SharedCount(3, None),
        ("user", "bob"): SharedCount(0, NOW + 2 + USER.lock_s),
        ("user", "x"): SharedCount(0, None),
    }
    assert a.lockout_counts([], NOW) == {}


def test_failures_while_locked_neither_count_nor_extend_the_lock(nodes):
    a, b = nodes
    for i in range(3):
        a.count_lockout_failures([(USER, "carol")], NOW + i)
    later = b.count_lockout_failures([(USER, "carol")], NOW + 100)[0]
    assert not later.counted and later.locked_until == NOW + 2 + USER.lock_s
    assert rows(a, lockout_failures) == 0  # a lock forgets the key's failures


def test_failures_slide_out_of_the_window_and_locks_end(nodes):
    a, b = nodes
    a.count_lockout_failures([(USER, "dave")], NOW)
    a.count_lockout_failures([(USER, "dave")], NOW + 30)
    # The first has left the window: two in it, no lock.
    assert b.count_lockout_failures([(USER, "dave")], NOW + USER.window_s)[0].locked_until is None
    locked = b.count_lockout_failures([(USER, "dave")], NOW + USER.window_s + 1)[0]
    assert locked.locked_until == NOW + USER.window_s + 1 + USER.lock_s
    after = locked.locked_until + 1
    assert a.lockout_counts([("user", "dave")], after)[("user", "dave")] == SharedCount(0, None)
    assert (
        a.count_lockout_failures([(USER, "dave")], after)[0]
        == (a.count_lockout_failures([(USER, "erin")], after)[0])
    )


def test_kinds_count_apart(nodes):
    a, _ = nodes
    for i in range(3):
        a.count_lockout_failures([(USER, "same")], NOW + i)
    assert a.lockout_counts([("source", "same")], NOW + 3) == {
        ("source", "same"): SharedCount(0, None)
    }


def test_a_success_forgets_failures_but_not_a_lock(nodes):
    a, b = nodes
    a.count_lockout_failures([(USER, "frank")], NOW)
    b.forget_lockout_failures("user", "frank")
    assert a.lockout_counts([("user", "frank")], NOW)[("user", "frank")] == SharedCount(0, None)
    for i in range(3):
        a.count_lockout_failures([(USER, "frank")], NOW + i)
    b.forget_lockout_failures("user", "frank")
    assert a.lockout_counts([("user", "frank")], NOW + 3)[("user", "frank")].locked_until


def test_rows_stay_bounded_old_failures_and_ended_locks_are_deleted(nodes):
    a, _ = nodes
    for n in range(20):
        a.count_lockout_failures([(USER, f"user-{n}")], NOW)
    for i in range(3):
        a.count_lockout_failures([(USER, "locked")], NOW + i)
    assert (rows(a, lockout_failures), rows(a, lockout_locks)) == (20, 1)
    a.count_lockout_failures([(USER, "later")], NOW + USER.lock_s + USER.window_s)
    assert (rows(a, lockout_failures), rows(a, lockout_locks)) == (1, 0)


def test_keys_are_stored_as_digests_whatever_their_length(nodes):
    a, _ = nodes
    long_key = "名" * 10_000
    a.count_lockout_failures([(USER, long_key)], NOW)
    with a._db.read() as conn:
        stored = conn.execute(sa.select(lockout_failures.c.key_digest)).scalar_one()
    assert stored == key_digest(long_key) == hashlib.sha256(long_key.encode()).hexdigest()
    assert a.lockout_counts([("user", long_key)], NOW)[("user", long_key)].failures == 1


def test_a_rule_must_be_sane():
    with pytest.raises(InvalidInput):
        LockoutRule("", 3, 1.0, 1.0)
    with pytest.raises(InvalidInput):
        LockoutRule("user", 0, 1.0, 1.0)


# --- admin tokens -------------------------------------------------------------------------------


def digest(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


@pytest.fixture
def nodes_with_admins(nodes):
    """The two nodes, with the operator root and alice, tenant admin of "t": a token stands
    for an admin that exists."""
    a, _ = nodes
    a.add_tenant("t")
    a.add_admin("root", None)
    a.add_admin("alice", "t")
    return nodes


def test_a_token_kept_by_one_node_is_found_by_the_other_until_removed(nodes_with_admins):
    a, b = nodes_with_admins
    a.add_admin_token(digest(1), AdminToken("alice", "t", NOW + 60), max_tokens=10, now=NOW)
    assert b.admin_token(digest(1)) == AdminToken("alice", "t", NOW + 60)
    assert b.admin_token(digest(2)) is None
    b.remove_admin_token(digest(1))
    assert a.admin_token(digest(1)) is None
    b.remove_admin_token(digest(1))  # gone already: nothing happens


def test_expired_tokens_are_deleted_at_the_next_sign_in(nodes_with_admins):
    a, b = nodes_with_admins
    a.add_admin_token(digest(1), AdminToken("root", None, NOW + 60), max_tokens=10, now=NOW)
    # Looked up after expiry, it is still there, expired (so the API can say so).
    assert b.admin_token(digest(1)) == AdminToken("root", None, NOW + 60, AdminRole.OPERATOR)
    b.add_admin_token(digest(2), AdminToken("root", None, NOW + 200), max_tokens=10, now=NOW + 61)
    assert a.admin_token(digest(1)) is None
    assert a.count_admin_tokens() == 1


def test_past_the_bound_the_oldest_tokens_go(nodes_with_admins):
    a, b = nodes_with_admins
    for n in range(7):
        node = a if n % 2 else b
        node.add_admin_token(
            digest(n), AdminToken("root", None, NOW + 600), max_tokens=4, now=NOW + n
        )
    assert a.count_admin_tokens() == 4
    assert [n for n in range(7) if a.admin_token(digest(n))] == [3, 4, 5, 6]


def test_only_digests_are_stored(nodes):
    a, _ = nodes
    with pytest.raises(InvalidInput):
        a.add_admin_token("token-text", AdminToken("root", None, NOW), max_tokens=4, now=NOW)
    a.add_admin_token(digest(1), AdminToken("root", None, NOW + 1), max_tokens=4, now=NOW)
    with a._db.read() as conn:
        assert conn.execute(sa.select(admin_tokens.c.digest)).scalars().all() == [digest(1)]


def test_a_token_stands_for_its_admin_as_they_are_now(nodes_with_admins):
    a, b = nodes_with_admins
    a.add_admin_token(digest(1), AdminToken("alice", "t", NOW + 60), max_tokens=10, now=NOW)
    b.set_admin_role("alice", "auditor")  # ends her sign-ins: a new one stands for an auditor
    assert a.admin_token(digest(1)) is None
    a.add_admin_token(digest(2), AdminToken("alice", "t", NOW + 60), max_tokens=10, now=NOW)
    assert b.admin_token(digest(2)) == AdminToken("alice", "t", NOW + 60, AdminRole.AUDITOR)
    # A token kept just as its admin was disabled (issued while that change was written)
    # stands for nothing, and not even once she is enabled again.
    b.set_admin_disabled("alice", True)
    a.add_admin_token(digest(3), AdminToken("alice", "t", NOW + 60), max_tokens=10, now=NOW)
    assert b.admin_token(digest(3)) is None
    b.set_admin_disabled("alice", False)
    assert b.admin_token(digest(3)) is None
    a.add_admin_token(digest(4), AdminToken("alice", "t", NOW + 60), max_tokens=10, now=NOW)
    b.set_admin_disabled("alice", False)  # enabled already: nobody is signed out
    assert a.admin_token(digest(4)) is not None
    b.delete_admin("alice")
    assert a.admin_token(digest(4)) is None
    assert a.admin_token(digest(3)) is None
