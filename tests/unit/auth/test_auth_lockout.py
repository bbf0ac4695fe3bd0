"""Lockout: sliding window, lock duration, success, eviction — all on a fake clock."""

from __future__ import annotations

import pytest

from core.auth.errors import AuthArgumentError
from core.auth.lockout import (
    IN_FLIGHT_RETRY_S,
    SOURCE_MAX_FAILURES,
    USER_LOCK_S,
    USER_MAX_FAILURES,
    USER_WINDOW_S,
    Attempt,
    Lockout,
    source_key,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_defaults() -> None:
    assert (USER_MAX_FAILURES, USER_WINDOW_S, USER_LOCK_S) == (5, 900.0, 900.0)
    assert SOURCE_MAX_FAILURES == 20


def test_locks_after_max_failures_in_window(clock: Clock) -> None:
    lockout = Lockout.per_user(clock)
    for _ in range(USER_MAX_FAILURES - 1):
        assert lockout.record_failure("alice") is None
        clock.now += 10
    assert lockout.locked_until("alice") is None
    until = lockout.record_failure("alice")
    assert until == clock.now + USER_LOCK_S
    assert lockout.locked_until("alice") == until
    assert lockout.locked_until("bob") is None


def test_failures_while_locked_do_not_extend(clock: Clock) -> None:
    lockout = Lockout(2, 60, 100, clock, 10)
    lockout.record_failure("k")
    until = lockout.record_failure("k")
    clock.now += 50
    assert lockout.record_failure("k") == until


def test_lock_expires(clock: Clock) -> None:
    lockout = Lockout(2, 60, 100, clock, 10)
    lockout.record_failure("k")
    lockout.record_failure("k")
    clock.now += 100
    assert lockout.locked_until("k") is None
    assert lockout.record_failure("k") is None  # counting starts afresh after a lock
    assert len(lockout) == 1


def test_window_slides(clock: Clock) -> None:
    lockout = Lockout(3, 60, 100, clock, 10)
    lockout.record_failure("k")  # t=0
    clock.now += 40
    lockout.record_failure("k")  # t=40
    clock.now += 30
    assert lockout.record_failure("k") is None  # t=70: the t=0 failure has left the window
    clock.now += 20
    assert lockout.record_failure("k") == clock.now + 100  # t=90: 40, 70, 90


def test_success_clears_failures_but_not_a_lock(clock: Clock) -> None:
    lockout = Lockout(2, 60, 100, clock, 10)
    lockout.record_failure("k")
    lockout.record_success("k")
    assert lockout.record_failure("k") is None
    assert len(lockout) == 1
    until = lockout.record_failure("k")
    lockout.record_success("k")
    assert lockout.locked_until("k") == until
    lockout.record_success("unknown")


def test_oldest_keys_are_evicted(clock: Clock) -> None:
    lockout = Lockout(3, 60, 100, clock, max_keys=3)
    for key in ("a", "b", "c"):
        lockout.record_failure(key)
    lockout.record_failure("a")  # makes a the most recently touched
    lockout.record_failure("d")  # evicts b, the least recently touched
    assert len(lockout) == 3
    lockout.record_failure("b")
    assert lockout.record_failure("b") is None  # b started from zero again: 2 of 3
    assert lockout.record_failure("a") is not None  # a kept its two failures: 3 of 3


def test_a_flood_of_fresh_keys_does_not_unlock_a_locked_key(clock: Clock) -> None:
    lockout = Lockout(2, 60, 100, clock, max_keys=10)
    lockout.record_failure("victim")
    until = lockout.record_failure("victim")
    for i in range(1_000):  # failures under fresh keys, as many as an attacker likes
        lockout.record_failure(f"spray-{i}")
    assert lockout.locked_until("victim") == until
    assert len(lockout) <= 2 * 10


def test_a_full_lock_table_drops_the_lock_that_ends_soonest(clock: Clock) -> None:
    lockout = Lockout(1, 60, 100, clock, max_keys=3)
    for key in ("a", "b", "c"):
        lockout.record_failure(key)
        clock.now += 1
    lockout.record_failure("d")
    assert lockout.locked_until("a") is None
    assert all(lockout.locked_until(k) is not None for k in ("b", "c", "d"))
    clock.now += 99.5  # b's and c's locks have ended (d's has not): they go first
    lockout.record_failure("e")
    assert lockout.locked_until("d") is not None and lockout.locked_until("e") is not None


def test_memory_stays_bounded(clock: Clock) -> None:
    lockout = Lockout(5, 60, 100, clock, max_keys=100)
    for i in range(10_000):
        lockout.record_failure(f"10.0.{i // 256}.{i % 256}")
    assert len(lockout) == 100


@pytest.mark.parametrize("args", [(0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 0, 1), (1, 1, 1, 0)])
def test_bad_limits(args: tuple[int, int, int, int]) -> None:
    with pytest.raises(AuthArgumentError):
        Lockout(args[0], args[1], args[2], Clock(), args[3])


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4 through an IPv6 socket: the same client
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),  # another address in the same /64
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("unknown", "unknown"),
    ],
)
def test_sources_are_counted_by_address_or_ipv6_block(address: str, key: str) -> None:
    assert source_key(address) == key


def test_rotating_through_an_ipv6_block_does_not_escape_the_source_lockout(clock: Clock) -> None:
    lockout = Lockout.per_source(clock)
    for i in range(SOURCE_MAX_FAILURES):
        lockout.record_failure(source_key(f"2001:db8:1:2::{i + 1:x}"))
    assert lockout.locked_until(source_key("2001:db8:1:2:ffff::1")) is not None
    assert lockout.locked_until(source_key("2001:db8:1:3::1")) is None


def test_attempts_in_flight_count_so_a_parallel_burst_cannot_pass_the_limit(clock: Clock) -> None:
    lockout = Lockout(3, 60, 100, clock)
    assert [lockout.begin("k") for _ in range(3)] == [None, None, None]
    assert lockout.begin("k") == clock.now + IN_FLIGHT_RETRY_S  # three are already checking
    assert lockout.end("k", failed=True) is None
    assert lockout.end("k", failed=False) is None  # no answer (an error): nothing counted
    assert lockout.begin("k") is None  # one failure and one in flight: room for one more
    assert lockout.end("k", failed=True) is None
    until = lockout.end("k", failed=True)
    assert until == clock.now + 100 and lockout.begin("k") == until


def test_an_attempt_refused_by_one_lockout_is_undone_in_the_others(clock: Clock) -> None:
    source, user = Lockout(1, 60, 100, clock), Lockout(5, 60, 100, clock)
    source.record_failure("10.0.0.1")  # the source is locked
    attempt = Attempt((user, "alice"), (source, "10.0.0.1"))
    assert attempt.begin() == clock.now + 100
    for _ in range(5):  # alice's in-flight count was undone: five attempts still fit
        assert user.begin("alice") is None


def test_a_shared_count_of_failures_leaves_room_only_for_what_it_allows(clock: Clock) -> None:
    lockout = Lockout(3, 60, 100, clock)
    lockout.record_failure("k")  # one here, and the shared count (with it) has two
    assert lockout.begin("k", shared_failures=2) is None
    assert lockout.begin("k", shared_failures=2) == clock.now + IN_FLIGHT_RETRY_S
    assert lockout.begin("j", shared_failures=0) is None  # only this key's count is shared
    assert lockout.begin("k", shared_failures=0) is None  # a smaller shared count: ours counts


def test_a_shared_attempt_passes_each_lockout_its_shared_count(clock: Clock) -> None:
    source, user = Lockout(5, 60, 100, clock), Lockout(2, 60, 100, clock)
    attempt = Attempt((source, "10.0.0.1"), (user, "alice"))
    assert attempt.begin(shared_failures=[0, 2]) == clock.now + IN_FLIGHT_RETRY_S
    assert attempt.begin(shared_failures=[0, 1]) is None
    with pytest.raises(ValueError):
        Attempt((source, "10.0.0.1"), (user, "alice")).begin(shared_failures=[1])


def test_an_adopted_lock_holds_until_it_ends_and_never_shortens_one(clock: Clock) -> None:
    lockout = Lockout(3, 60, 100, clock)
    lockout.adopt_lock("k", clock.now + 50)
    assert lockout.locked_until("k") == clock.now + 50
    assert lockout.begin("k") == clock.now + 50
    lockout.adopt_lock("k", clock.now + 10)  # an earlier end does not shorten it
    assert lockout.locked_until("k") == clock.now + 50
    lockout.adopt_lock("j", clock.now)  # ended already: nothing to keep
    assert lockout.locked_until("j") is None and len(lockout) == 1
    clock.now += 50
    assert lockout.locked_until("k") is None


def test_adopted_locks_stay_within_the_bound(clock: Clock) -> None:
    lockout = Lockout(3, 60, 100, clock, max_keys=4)
    for n in range(10):
        lockout.adopt_lock(f"k{n}", clock.now + 100 - n)
    assert len(lockout) == 4
    assert lockout.locked_until("k9") == clock.now + 91


def test_failures_are_those_in_the_window(clock: Clock) -> None:
    lockout = Lockout(5, 60, 100, clock)
    lockout.record_failure("k")
    clock.now += 30
    lockout.record_failure("k")
    assert (lockout.failures("k"), lockout.failures("other")) == (2, 0)
    clock.now += 30
    assert lockout.failures("k") == 1


def test_keys_with_other_limits_share_the_table_and_its_bound(clock: Clock) -> None:
    lockout = Lockout(5, 60, 100, clock, max_keys=10)
    strict = lockout.with_limits(2, 120, 1000)
    strict.record_failure("city-a/alice")
    assert strict.record_failure("city-a/alice") == clock.now + 1000  # 2 lock, for 1000 s
    lockout.record_failure("city-b/bob")
    assert lockout.record_failure("city-b/bob") is None  # 2 of 5: the defaults still count
    # One table: each view sees the other's locks and failures, in flight too.
    assert lockout.locked_until("city-a/alice") == clock.now + 1000
    assert strict.failures("city-b/bob") == 2
    assert strict.begin("city-b/bob") == clock.now + IN_FLIGHT_RETRY_S  # 2 of 2 already
    assert lockout.begin("city-b/bob") is None
    assert strict.begin("city-b/bob") == clock.now + IN_FLIGHT_RETRY_S
    lockout.end("city-b/bob", failed=False)
    for i in range(100):
        strict.record_failure(f"spray-{i}")
    assert len(lockout) <= 2 * 10


def test_with_mixed_lock_lengths_a_full_table_drops_the_lock_that_ends_soonest(
    clock: Clock,
) -> None:
    lockout = Lockout(1, 60, 1000, clock, max_keys=3)
    short = lockout.with_limits(1, 60, 10)
    lockout.record_failure("long-1")  # ends at +1000
    short.record_failure("short")  # set later, ends sooner: +10
    lockout.record_failure("long-2")
    lockout.record_failure("long-3")  # full: "short" goes, though "long-1" was set first
    assert lockout.locked_until("short") is None
    assert all(lockout.locked_until(k) for k in ("long-1", "long-2", "long-3"))
    clock.now += 5
    short.record_failure("short-2")  # "long-1" ends soonest now
    assert lockout.locked_until("long-1") is None and short.locked_until("short-2")


def test_the_lock_ends_stay_bounded_when_locks_are_replaced(clock: Clock) -> None:
    lockout = Lockout(1, 60, 100, clock, max_keys=4)
    lockout.adopt_lock("first", clock.now + 50)  # ends first: stale entries queue behind it
    for n in range(1_000):
        lockout.adopt_lock("k", clock.now + 100 + n)  # each a later end: a stale entry left
    assert len(lockout._lock_ends) <= 2 * 4 + 1
    assert lockout.locked_until("k") == clock.now + 1099
