"""Lockouts every relay node shares: the failures each key's lockout counts, and the locks.

A relay node keeps its own in-memory :class:`~core.auth.lockout.Lockout` in front (fast answers,
attempts under way); these rows make the counts and locks the same on every node, so a guesser
spreading attempts over the nodes behind a load balancer is locked just as on one.

Keys (typed names, source addresses) are stored as SHA-256 digests: bounded in length, and no
typed text is kept. Counting a failure reads the key's count and may lock it, so it is a change
under the writer lock (exact counts when nodes fail at once); checking is one read. Every write
also deletes the failures whose window passed and the locks that ended, so the tables hold only
what can still matter, and a key has at most its lockout's failure limit of rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from relay.store.database import Database
from relay.store.errors import InvalidInput
from relay.store.schema import MAX_LOCKOUT_KIND_LEN, lockout_failures, lockout_locks


@dataclass(frozen=True)
class LockoutRule:
    """A lockout's kind and limits: ``max_failures`` within ``window_s`` lock for ``lock_s``."""

    kind: str
    max_failures: int
    window_s: float
    lock_s: float

    def __post_init__(self) -> None:
        if not self.kind or len(self.kind) > MAX_LOCKOUT_KIND_LEN:
            raise InvalidInput(f"a lockout kind is 1 to {MAX_LOCKOUT_KIND_LEN} characters")
        if self.max_failures < 1 or self.window_s <= 0 or self.lock_s <= 0:
            raise InvalidInput("lockout limits must be positive")


@dataclass(frozen=True)
class SharedCount:
    """A key's state as every node sees it."""

    failures: int  # within the window
    locked_until: float | None  # None: not locked


@dataclass(frozen=True)
class CountedFailure:
    """What counting one failure did."""

    counted: bool  # False: the key was locked already (failures while locked do not count)
    locked_until: float | None  # when its lock ends, if it is locked (now or already)


NOT_LOCKED = SharedCount(0, None)


def key_digest(key: str) -> str:
    """How a lockout key is stored."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class Lockouts:
    """Failures and locks of lockouts shared by every relay node."""

    _db: Database

    def lockout_counts(
        self, wanted: Sequence[tuple[str, str]], now: float
    ) -> dict[tuple[str, str], SharedCount]:
        """For each (kind, key): its failures within their window and its lock, in one query."""
        if not wanted:
            return {}
        digests = {(kind, key_digest(key)): (kind, key) for kind, key in wanted}
        failures = sa.select(
            lockout_failures.c.kind,
            lockout_failures.c.key_digest,
            sa.func.count().label("failures"),
            sa.null().label("locked_until"),
        ).where(
            sa.tuple_(lockout_failures.c.kind, lockout_failures.c.key_digest).in_(list(digests)),
            lockout_failures.c.expires_at > now,
        )
        locks = sa.select(
            lockout_locks.c.kind,
            lockout_locks.c.key_digest,
            sa.literal(0).label("failures"),
            lockout_locks.c.locked_until,
        ).where(
            sa.tuple_(lockout_locks.c.kind, lockout_locks.c.key_digest).in_(list(digests)),
            lockout_locks.c.locked_until > now,
        )
        failures = failures.group_by(lockout_failures.c.kind, lockout_failures.c.key_digest)
        with self._db.read() as conn:
            rows = conn.execute(sa.union_all(failures, locks)).all()
        counts = dict.fromkeys(wanted, NOT_LOCKED)
        for row in rows:
            wanted_key = digests[(row.kind, row.key_digest)]
            before = counts[wanted_key]
            counts[wanted_key] = SharedCount(
                before.failures + row.failures,
                row.locked_until if row.locked_until is not None else before.locked_until,
            )
        return counts

    def count_lockout_failures(
        self, failed: Iterable[tuple[LockoutRule, str]], now: float
    ) -> list[CountedFailure]:
        """Count one failure for each (rule, key), in order; a key that reaches its rule's
        limit is locked (its failures are then forgotten). One transaction under the writer
        lock, so failures on several nodes at once are each counted once."""
        outcomes = []
        with self._db.write() as conn:
            _prune(conn, now)
            for rule, key in failed:
                outcomes.append(_count_failure(conn, rule, key_digest(key), now))
        return outcomes

    def forget_lockout_failures(self, kind: str, key: str) -> None:
        """A success: forget ``key``'s failures. A lock in force stays until it ends."""
        with self._db.write() as conn:
            conn.execute(
                sa.delete(lockout_failures).where(
                    lockout_failures.c.kind == kind,
                    lockout_failures.c.key_digest == key_digest(key),
                )
            )


def _prune(conn: sa.Connection, now: float) -> None:
    """Delete the failures whose window passed and the locks that ended."""
    conn.execute(sa.delete(lockout_failures).where(lockout_failures.c.expires_at <= now))
    conn.execute(sa.delete(lockout_locks).where(lockout_locks.c.locked_until <= now))


def _count_failure(
    conn: sa.Connection, rule: LockoutRule, digest: str, now: float
) -> CountedFailure:
    lock = conn.execute(
        sa.select(lockout_locks.c.locked_until).where(
            lockout_locks.c.kind == rule.kind, lockout_locks.c.key_digest == digest
        )
    ).scalar()
    if lock is not None:  # ended locks were pruned just before
        return CountedFailure(False, lock)
    this_key = (lockout_failures.c.kind == rule.kind) & (lockout_failures.c.key_digest == digest)
    conn.execute(
        sa.insert(lockout_failures).values(
            kind=rule.kind, key_digest=digest, failed_at=now, expires_at=now + rule.window_s
        )
    )
    failures = conn.execute(
        sa.select(sa.func.count()).select_from(lockout_failures).where(this_key)
    ).scalar_one()
    if failures < rule.max_failures:
        return CountedFailure(True, None)
    until = now + rule.lock_s
    conn.execute(sa.delete(lockout_failures).where(this_key))
    conn.execute(
        sa.insert(lockout_locks).values(kind=rule.kind, key_digest=digest, locked_until=until)
    )
    return CountedFailure(True, until)
