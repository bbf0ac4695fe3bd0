"""The office PC's own session log sent to a syslog collector (``telework-host --syslog``):
each session's start and end, each viewer it refused and each central list of home PCs it
applied or refused, as RFC 5424 messages (core.syslog)
through the same sender as the relay's (transport.syslog: TLS verified or plain UDP, a bounded
queue that never makes the agent wait)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from apps.host.events import (
    AgentEvent,
    CentralDevicesChanged,
    CentralDevicesRefused,
    SessionEnded,
    SessionRefused,
    SessionStarted,
)
from core.syslog import (
    DEFAULT_FACILITY,
    Severity,
    SyslogDestination,
    SyslogMessage,
    format_message,
)
from transport.syslog import SyslogSender

APP_NAME = "telework-host"


class SessionSyslog:
    """Listens to the agent's events (``agent.listeners``) and sends the session ones."""

    def __init__(
        self,
        destination: SyslogDestination,
        hostname: str,
        host_id: Callable[[], str | None],
        *,
        sender: SyslogSender | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.sender = sender or SyslogSender(destination)
        self.hostname = hostname
        self._host_id = host_id
        self._wall = wall

    def start(self) -> None:
        self.sender.start()

    async def close(self) -> None:
        await self.sender.close()

    def on_event(self, event: AgentEvent) -> None:
        match event:
            case SessionStarted(info=info):
                self._send(
                    "session_start",
                    Severity.INFO,
                    info.tenant,
                    info.user,
                    "",
                    {"session": info.session_id, "device": info.device},
                )
            case SessionEnded(info=info, reason=reason):
                self._send(
                    "session_end",
                    Severity.INFO,
                    info.tenant,
                    info.user,
                    "",
                    {"session": info.session_id, "reason": reason},
                )
            case SessionRefused(user=user, tenant=tenant, source=source, reason=reason):
                self._send(
                    "session_refused", Severity.WARNING, tenant, user, source, {"reason": reason}
                )
            case CentralDevicesChanged(central=central):
                applied = {"serial": central.serial, "devices": len(central.devices)}
                self._send("central_devices", Severity.INFO, central.tenant, "", "", applied)
            case CentralDevicesRefused(tenant=tenant, reason=reason):
                refused = {"reason": reason}
                self._send("central_devices_refused", Severity.WARNING, tenant, "", "", refused)

    def _send(
        self,
        event: str,
        severity: Severity,
        tenant: str,
        user: str,
        source: str,
        detail: dict[str, Any],
    ) -> None:
        message = SyslogMessage(
            facility=DEFAULT_FACILITY,
            severity=severity,
            timestamp=self._wall(),
            hostname=self.hostname,
            app_name=APP_NAME,
            procid=str(os.getpid()),
            msgid=event,
            structured={
                "event": event,
                "tenant": tenant or None,
                "user": user or None,
                "host": self._host_id(),
                "source": source or None,
            },
            msg=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        )
        self.sender.send(format_message(message))
