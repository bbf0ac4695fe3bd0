"""Handlers for a tenant's bandwidth, its limits and alerts, and its daily usage."""

from __future__ import annotations

from typing import Any

from relay.admin.call import Call, Csv


async def bandwidth(call: Call) -> Any:
    return call.service.monitoring.bandwidth(call.tenant)


async def set_limits(call: Call) -> Any:
    alert_bps, cap_bps = call.body.get("alert_bps"), call.body.get("cap_bps")
    await call.service.monitoring.set_limits(call.scope, alert_bps, cap_bps)
    return {"tenant": call.tenant, "alert_bps": alert_bps, "cap_bps": cap_bps}


async def alerts(call: Call) -> Any:
    alerting, recent = await call.service.monitoring.alerts(call.tenant)
    return {"alerting": alerting, "alerts": recent}


async def usage(call: Call) -> Any:
    days = await call.service.monitoring.usage(
        call.tenant, call.query.get("since"), call.query.get("until")
    )
    if call.query.get("format") == "csv":
        header = list(days[0]) if days else ["day"]
        return Csv(f"usage-{call.tenant}.csv", header, [list(d.values()) for d in days])
    return {"tenant": call.tenant, "days": days}
