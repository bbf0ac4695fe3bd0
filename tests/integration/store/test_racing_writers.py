"""Limit checks and check-then-insert steps hold when writers race, on SQLite and PostgreSQL.

Each race runs real threads, each with its own pooled connection, released together, over two
Directory objects on one database (two relays, or a relay and the manage CLI), and is run
several times: on PostgreSQL without the store's writer lock these slip past their checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.policy import MAX_MACS
from relay.store.directory import Directory
from relay.store.errors import EnrollmentRefused, InvalidInput

NOW = 1_800_000_000.0
TENANT = "横浜市"
# Threads per race: more than two so that a slip is likely at once, within the pool's size.
RACERS = 8
# Runs of each race (each on a new database): one lucky ordering must not hide a missing lock.
RUNS = 3


@pytest.fixture
def directories(tmp_path: Path, database_url: str | None) -> Iterator[tuple[Directory, Directory]]:
    """Two directories on one database, with a tenant."""
    with (
        Directory.open(tmp_path, database=database_url) as first,
        Directory.open(tmp_path, database=database_url) as second,
    ):
        first.add_tenant(TENANT, now=NOW)
        yield first, second


def race[T](
    directories: tuple[Directory, Directory], action: Callable[[Directory, int], T]
) -> list[T | Exception]:
    """Run ``action(directory, i)`` for i in range(RACERS), all threads released together,
    alternating the two directories; return each result or the exception it raised."""
    barrier = threading.Barrier(RACERS)

    def run(i: int) -> T | Exception:
        barrier.wait()
        try:
            return action(directories[i % 2], i)
        except Exception as exc:  # every outcome is checked by the caller
            return exc

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(run, range(RACERS)))


def enrol(directory: Directory, host_id: str) -> None:
    token = directory.issue_enrollment_token(TENANT, 3600, NOW)
    directory.redeem_enrollment_token(token, host_id, "PEM", host_id, "0.1", NOW)


def mac(i: int) -> str:
    return f"02:00:00:00:00:{i:02x}"


def office_pc_with_room_for_one(directory: Directory, host_id: str) -> None:
    """Enrol ``host_id`` with MAX_MACS - 1 home PCs of its own."""
    enrol(directory, host_id)
    for i in range(MAX_MACS - 1):
        directory.add_mac(TENANT, f"02:00:00:01:{i // 256:02x}:{i % 256:02x}", host_id=host_id)


@pytest.mark.parametrize("run", range(RUNS))
def test_home_pcs_added_at_once_never_pass_the_limit(directories, run: int) -> None:
    first, _ = directories
    office_pc_with_room_for_one(first, "h-1")
    results = race(directories, lambda d, i: d.add_mac(TENANT, mac(i), host_id="h-1"))
    assert sum(isinstance(r, InvalidInput) for r in results) == RACERS - 1, results
    assert first.central_mac_count("h-1") == MAX_MACS


@pytest.mark.parametrize("run", range(RUNS))
def test_grants_made_at_once_never_pass_the_limit(directories, run: int) -> None:
    """Each grant brings one user's home PC to an office PC that has room for one more."""
    first, _ = directories
    office_pc_with_room_for_one(first, "h-1")
    for i in range(RACERS):
        first.add_user(TENANT, f"u-{i}")
        first.add_mac(TENANT, mac(i), login=f"u-{i}")
    results = race(directories, lambda d, i: d.grant(TENANT, f"u-{i}", "h-1"))
    assert sum(isinstance(r, InvalidInput) for r in results) == RACERS - 1, results
    assert first.central_mac_count("h-1") == MAX_MACS


@pytest.mark.parametrize("run", range(RUNS))
def test_one_office_pc_enrolled_at_once_with_several_tokens(directories, run: int) -> None:
    """One host ID, a token each: one enrolment wins, the others are refused cleanly and keep
    their tokens."""
    first, _ = directories
    tokens = [first.issue_enrollment_token(TENANT, 3600, NOW) for _ in range(RACERS)]
    results = race(
        directories,
        lambda d, i: d.redeem_enrollment_token(tokens[i], "h-1", "PEM", "PC", "0.1", NOW),
    )
    refusals = [r for r in results if isinstance(r, Exception)]
    assert len(refusals) == RACERS - 1, results
    assert all(isinstance(r, EnrollmentRefused) and r.reason == "host_exists" for r in refusals)
    unused = [t for t, r in zip(tokens, results, strict=True) if isinstance(r, Exception)]
    for n, token in enumerate(unused):  # a refusal consumed nothing: each still enrols a PC
        first.redeem_enrollment_token(token, f"h-{n + 2}", "PEM", "PC", "0.1", NOW)
