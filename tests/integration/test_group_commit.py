"""The relay's group commit on a real directory: writes that arrive together share a commit, each
is all or nothing on its own, a failed commit fails every write in it, and closing the relay
commits what was queued."""

from __future__ import annotations

import asyncio
from functools import partial

from relay import group_commit
from relay.errors import StoreUnavailable
from relay.group_commit import MAX_GROUP_COMMIT_WRITES
from relay.store.errors import InvalidInput
from tests.integration.audit_faults import audit_inserts_fail
from tests.integration.relay_harness import TENANT, start_relay

WRITES = 2 * MAX_GROUP_COMMIT_WRITES + 10


def count_commits(relay, monkeypatch) -> list[int]:
    """The size of each group the directory is asked to commit."""
    directory = relay.directory
    sizes: list[int] = []
    real = directory.write_group

    def counted(changes):
        sizes.append(len(changes))
        return real(changes)

    monkeypatch.setattr(directory, "write_group", counted)
    return sizes


def record(relay, event: str):
    return partial(relay.directory.audit, event, tenant=TENANT, now=1.0e9)


def events(relay) -> list[str]:
    return [r.event for r in relay.directory.list_audit(TENANT, limit=10_000)]


async def test_writes_that_arrive_together_share_a_few_commits(relay, monkeypatch):
    sizes = count_commits(relay, monkeypatch)
    group = relay.server.context.group_commit
    await asyncio.gather(*(group.write(record(relay, f"burst.{i}")) for i in range(WRITES)))
    assert sorted(events(relay)) == sorted(f"burst.{i}" for i in range(WRITES))
    assert sum(sizes) == WRITES
    assert max(sizes) == MAX_GROUP_COMMIT_WRITES  # not one commit per write
    assert len(sizes) == 3


async def test_a_write_that_fails_fails_alone(relay):
    group = relay.server.context.group_commit
    outcomes = await asyncio.gather(
        group.write(record(relay, "before")),
        group.write(record(relay, "Not An Event")),
        group.write(record(relay, "after")),
        return_exceptions=True,
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], InvalidInput)
    assert events(relay)[-2:] == ["before", "after"]


async def test_a_commit_the_database_refuses_fails_every_write_in_it(relay):
    group = relay.server.context.group_commit
    before = events(relay)
    with audit_inserts_fail("third") as refused:  # after "first" and "second" were inserted
        outcomes = await asyncio.gather(
            *(group.write(record(relay, name)) for name in ("first", "second", "third")),
            return_exceptions=True,
        )
    assert refused
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert events(relay) == before  # the records written before the failure are undone too
    assert relay.server.metrics.store_errors == 1
    await group.write(record(relay, "later"))  # the next group is committed
    assert events(relay)[-1] == "later"


async def test_a_write_whose_caller_gives_up_is_still_made(relay):
    group = relay.server.context.group_commit
    waiting = asyncio.ensure_future(group.write(record(relay, "abandoned")))
    await asyncio.sleep(0)
    waiting.cancel()
    await group.write(record(relay, "next"))
    assert events(relay)[-2:] == ["abandoned", "next"]


async def test_closing_the_relay_commits_what_was_queued(tmp_path):
    relay = await start_relay(tmp_path)
    try:
        group = relay.server.context.group_commit
        queued = [group.add(record(relay, f"queued.{i}")) for i in range(WRITES)]
        assert len(group) == WRITES
        await relay.server.close()
        assert all(future.done() and future.exception() is None for future in queued)
        assert len(group) == 0
        assert sum(event.startswith("queued.") for event in events(relay)) == WRITES
    finally:
        relay.directory.close()


async def test_a_stalled_directory_refuses_writes_past_the_queue_limit(relay, monkeypatch):
    monkeypatch.setattr(group_commit, "MAX_QUEUED_WRITES", 3)
    group = relay.server.context.group_commit
    queued = [group.add(record(relay, f"queued.{i}")) for i in range(3)]
    refused = group.add(record(relay, "one.too.many"))
    assert isinstance(refused.exception(), StoreUnavailable)  # at once: nothing was queued
    await asyncio.gather(*queued)
    assert "one.too.many" not in events(relay)
    assert events(relay)[-3:] == ["queued.0", "queued.1", "queued.2"]
