"""Reports (daily usage, audit searches and exports) are made off the event loop, a few at
once, and no larger than their limits: a refusal says why in its code and changes nothing.

How much a large report adds to the latency of the sessions the relay forwards is measured in
bench/report_stall.py, not here (timings belong in bench/).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pytest

from relay.admin.reports import (
    MAX_REPORT_JOBS,
    MAX_TENANT_REPORT_JOBS,
    REPORT_RETRY_AFTER_S,
    REPORT_SWITCH_INTERVAL_S,
    ReportJobs,
)
from relay.admin.services import monitoring
from tests.integration.admin.conftest import OTHER_TENANT, TENANT, Api, snapshot, tenant_path
from tests.integration.relay_harness import login

THIRD_TENANT = "third-town"
REPORTS = ("/usage", "/usage?format=csv", "/audit", "/audit?format=csv&limit=5")
# Longest a test waits for a report thread it let go.
THREAD_DONE_S = 10.0


class HeldReport:
    """A report job of ``tenant`` that holds its place until released (a large report being
    made, without making one)."""

    def __init__(self, jobs: ReportJobs, tenant: str) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.thread = ""
        self.task = asyncio.create_task(jobs.run(tenant, self._build))

    def _build(self) -> str:
        self.thread = threading.current_thread().name
        self.started.set()
        assert self.release.wait(THREAD_DONE_S)
        return "done"

    async def finish(self) -> str:
        self.release.set()
        return await self.task


def jobs(api: Api) -> ReportJobs:
    return api.admin.service.backend.reports


async def test_a_tenant_has_one_report_at_a_time_and_is_told_when_to_come_back(api: Api):
    held = HeldReport(jobs(api), TENANT)
    await asyncio.to_thread(held.started.wait, THREAD_DONE_S)
    before = snapshot(api)
    try:
        for report in REPORTS:
            status, body = await api.as_("alice", "GET", tenant_path(TENANT, report))
            assert status == 429, report
            assert body["code"] == "reports_busy"
            assert body["params"] == {
                "maximum": MAX_TENANT_REPORT_JOBS,
                "retry_after_s": REPORT_RETRY_AFTER_S,
            }
        token = api.tokens["alice"]
        async with api.http.get(
            api.base + tenant_path(TENANT, "/usage"), headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == str(REPORT_RETRY_AFTER_S)
        # Another tenant's admin is not held up by this one's report.
        status, _ = await api.as_("bob", "GET", tenant_path(OTHER_TENANT, "/usage"))
        assert status == 200
    finally:
        assert await held.finish() == "done"
    assert snapshot(api) == before
    assert held.thread.startswith("telework-report")  # not the event loop's thread
    status, _ = await api.as_("alice", "GET", tenant_path(TENANT, "/usage"))
    assert status == 200


async def test_the_relay_makes_only_a_few_reports_at_once(api: Api):
    assert MAX_REPORT_JOBS == 2  # the two tenants below fill the relay
    api.relay.directory.add_tenant(THIRD_TENANT)
    held = [HeldReport(jobs(api), TENANT), HeldReport(jobs(api), OTHER_TENANT)]
    for report in held:
        await asyncio.to_thread(report.started.wait, THREAD_DONE_S)
    try:
        status, body = await api.as_("root", "GET", tenant_path(THIRD_TENANT, "/audit"))
        assert status == 429 and body["code"] == "reports_busy"
        assert body["params"]["maximum"] == MAX_REPORT_JOBS
    finally:
        for report in held:
            await report.finish()
    status, body = await api.as_("root", "GET", tenant_path(THIRD_TENANT, "/audit"))
    assert status == 200 and body == {"records": []}


async def test_a_report_keeps_its_place_until_its_thread_is_done():
    """A client that leaves does not free the place while its report is still being made; the
    interpreter hands the GIL over more often only while a report is being made."""
    reports = ReportJobs(total=1, per_tenant=1)
    interval = sys.getswitchinterval()
    try:
        held = HeldReport(reports, TENANT)
        await asyncio.to_thread(held.started.wait, THREAD_DONE_S)
        assert sys.getswitchinterval() == pytest.approx(REPORT_SWITCH_INTERVAL_S)
        held.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await held.task
        assert reports.running[TENANT] == 1
        with pytest.raises(Exception, match="still being made"):
            await reports.run(TENANT, lambda: None)
        held.release.set()
        deadline = time.monotonic() + THREAD_DONE_S
        while reports.running and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert not reports.running
        assert sys.getswitchinterval() == interval
        assert await reports.run(TENANT, lambda: 42) == 42
        assert sys.getswitchinterval() == interval
    finally:
        reports.close()


async def test_a_session_echoes_while_a_report_is_being_made(world):
    """The report's thread waits for the session to echo through the relay: were the report
    made on the event loop, the echo could never come."""
    api, host = world
    channel, _ok = await login(api.relay, host.host_id, api.relay.totp_now())
    echoed = threading.Event()

    def report() -> str:
        assert echoed.wait(THREAD_DONE_S), "the session did not echo while the report ran"
        return "made"

    try:
        made = asyncio.create_task(jobs(api).run(TENANT, report))
        await channel.write(b"ping")
        assert await asyncio.wait_for(channel.read(), THREAD_DONE_S) == b"echo:ping"
        echoed.set()
        assert await made == "made"
    finally:
        channel.close()


async def test_a_usage_report_of_too_many_sessions_is_refused_whole(api: Api, monkeypatch):
    limit = 3
    monkeypatch.setattr(monitoring, "MAX_USAGE_SESSIONS", limit)
    now = time.time()
    for i in range(limit):
        api.relay.directory.audit(
            "session_start", tenant=TENANT, host_id="H", detail={"session": f"s{i}"}, now=now
        )
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/usage"))
    assert status == 200 and body["days"][-1]["sessions"] == limit

    api.relay.directory.audit(
        "session_start", tenant=TENANT, host_id="H", detail={"session": "one-more"}, now=now
    )
    for report in ("/usage", "/usage?format=csv"):
        status, body = await api.as_("alice", "GET", tenant_path(TENANT, report))
        assert status == 413, report
        assert body["code"] == "report_too_large" and body["params"] == {"maximum": limit}
    assert not jobs(api).running  # its place is free again
    # The other tenant's report is its own.
    status, _ = await api.as_("bob", "GET", tenant_path(OTHER_TENANT, "/usage"))
    assert status == 200
