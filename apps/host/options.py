"""The host agent's options: where it keeps its data, which relay, which display, and timings."""

from __future__ import annotations

import shlex
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.hostpolicy.backoff import RECONNECT_FIRST_S, RECONNECT_MAX_S
from core.protocol.session import SESSION_BUDGET_BPS
from core.syslog import SyslogDestination
from transport.e2e import E2E_HANDSHAKE_TIMEOUT_S

POLICY_TICK_S = 1.0  # how often the schedule and session limits are looked at


def default_shutdown_command() -> list[str]:
    if sys.platform == "win32":  # pragma: no cover
        return ["shutdown", "/s", "/t", "0"]
    if sys.platform == "darwin":  # pragma: no cover
        return ["osascript", "-e", 'tell app "System Events" to shut down']
    return ["systemctl", "poweroff"]


@dataclass
class AgentOptions:
    data_dir: Path
    relay: str | None = None  # overrides the enrolment record's relay
    relay_fingerprint: str | None = None
    # From the preset file (host.json): used only while this PC is not enrolled (wizard, --enroll).
    preset_relay: str | None = None
    preset_fingerprint: str | None = None
    name: str = field(default_factory=socket.gethostname)
    shutdown_command: list[str] = field(default_factory=default_shutdown_command)
    display: str | None = None  # X display to show and drive; None: $DISPLAY
    monitor: int = 1
    allow_take_over: bool = False  # local setting: a new login ends the live session
    reconnect_first_s: float = RECONNECT_FIRST_S
    reconnect_max_s: float = RECONNECT_MAX_S
    dead_after_s: float | None = None  # None: DEAD_AFTER_KEEPALIVES x the relay's interval
    e2e_timeout_s: float = E2E_HANDSHAKE_TIMEOUT_S  # longest a stalling viewer keeps us busy
    tick_s: float = POLICY_TICK_S
    budget_bps: int = SESSION_BUDGET_BPS
    inject: bool = True  # False: every session is view-only
    syslog: SyslogDestination | None = None  # where the session log also goes (--syslog)

    @staticmethod
    def parse_command(text: str) -> list[str]:
        return shlex.split(text, posix=sys.platform != "win32")
