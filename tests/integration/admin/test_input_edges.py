"""Hostile or extreme input to the admin API: a clear 4xx, nothing changed, nothing logged as
an internal error (usage dates at the ends of the calendar, deeply nested or oversized bodies,
overlong session IDs)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from relay.admin.params import MAX_SESSION_ID_LEN
from relay.admin.server import MAX_REQUEST_BYTES
from relay.admin.usage import MAX_USAGE_DAY, MIN_USAGE_DAY
from tests.integration.admin.conftest import TENANT, Api, snapshot, tenant_path

DAY = dt.timedelta(days=1)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "query",
    [
        "until=0001-01-01",  # the default 'since' would be before the first date there is
        "since=9999-12-31&until=9999-12-31",  # the day after does not exist
        "until=9999-12-31",
        "since=0001-01-01&until=0001-01-07",
        f"since={MIN_USAGE_DAY - DAY}&until={MIN_USAGE_DAY}",
        f"since={MAX_USAGE_DAY}&until={MAX_USAGE_DAY + DAY}",
    ],
)
async def test_usage_outside_the_reportable_days_is_a_400(api: Api, caplog, query):
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, f"/usage?{query}"))
    assert status == 400, body
    assert str(MIN_USAGE_DAY) in body["error"] and str(MAX_USAGE_DAY) in body["error"]
    assert not errors_logged(caplog)


@pytest.mark.parametrize(
    ("query", "days"),
    [
        (f"until={MIN_USAGE_DAY}", 1),  # the default week is cut at the first day
        (f"since={MAX_USAGE_DAY}&until={MAX_USAGE_DAY}", 1),
        (f"since={MIN_USAGE_DAY}&until={MIN_USAGE_DAY + 6 * DAY}", 7),
    ],
)
async def test_usage_at_the_edges_of_the_reportable_days_works(api: Api, query, days):
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, f"/usage?{query}"))
    assert status == 200, body
    assert len(body["days"]) == days


async def test_a_deeply_nested_body_is_a_400_without_signing_in_or_a_traceback(api: Api, caplog):
    status, body = await api.request("POST", "/api/v1/login", data=b"[" * 60_000)
    assert status == 400 and "nested" in body["error"]
    before = snapshot(api)
    status, body = await api.as_(
        "alice", "PUT", tenant_path(TENANT, "/policy"), data=b'{"a":' * 10_000
    )
    assert status == 400 and "nested" in body["error"]
    assert snapshot(api) == before
    assert not errors_logged(caplog)


async def test_a_body_over_the_size_limit_is_a_413(api: Api, caplog):
    status, body = await api.request("POST", "/api/v1/login", data=b" " * (MAX_REQUEST_BYTES + 1))
    assert status == 413 and body["error"]
    assert not errors_logged(caplog)


async def test_an_overlong_session_id_is_a_400(api: Api):
    long_id = "a" * (MAX_SESSION_ID_LEN + 1)
    status, body = await api.as_("alice", "DELETE", tenant_path(TENANT, f"/sessions/{long_id}"))
    assert status == 400 and str(MAX_SESSION_ID_LEN) in body["error"]
    status, body = await api.as_(
        "alice", "DELETE", tenant_path(TENANT, f"/sessions/{'a' * MAX_SESSION_ID_LEN}")
    )
    assert status == 404  # as long as allowed: looked up, and not there
