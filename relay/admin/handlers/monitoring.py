"""Handlers for a tenant's bandwidth, its limits and alerts, and its daily usage (a report,
made in a report's thread)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relay.admin.call import Call, Csv, Encoded


async def bandwidth(call: Call) -> Any:
    return call.service.monitoring.bandwidth(call.tenant)


async def set_limits(call: Call) -> Any:
    alert_bps, cap_bps = call.body.get("alert_bps"), call.body.get("cap_bps")
    await call.service.monitoring.set_limits(call.scope, alert_bps, cap_bps)
    return {"tenant": call.tenant, "alert_bps": alert_bps, "cap_bps": cap_bps}


async def alerts(call: Call) -> Any:
    alerting, recent = await call.service.monitoring.alerts(call.tenant)
    return {"alerting": alerting, "alerts": recent}


def _usage_csv(tenant: str) -> Callable[[list[dict[str, Any]]], Csv]:
    def answer(days: list[dict[str, Any]]) -> Csv:
        header = list(days[0]) if days else ["day"]
        return Csv(f"usage-{tenant}.csv", header, [list(d.values()) for d in days])

    return answer


def _usage_json(tenant: str) -> Callable[[list[dict[str, Any]]], Encoded]:
    return lambda days: Encoded({"tenant": tenant, "days": days})


async def usage(call: Call) -> Any:
    shape = _usage_csv if call.query.get("format") == "csv" else _usage_json
    return await call.service.monitoring.usage(
        call.tenant, call.query.get("since"), call.query.get("until"), shape(call.tenant)
    )
