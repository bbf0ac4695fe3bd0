"""What the host agent tells its UI (the tray): its state, and one small event per change."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from apps.host.session_core import SessionInfo
from core.hostpolicy.signed_devices import CentralDeviceList
from core.policy import Policy


class AgentState(enum.StrEnum):
    NOT_ENROLLED = "not_enrolled"
    OFFLINE = "offline"  # no control channel (connecting or waiting to retry)
    WAITING = "waiting"  # online, no session
    IN_SESSION = "in_session"
    ERROR = "error"  # cannot connect until someone acts (bad credential, wrong pin)


@dataclass(frozen=True)
class StateChanged:
    """The agent's state, or its pause, changed; ``detail`` says why (a refusal, "stopped")."""

    state: AgentState
    detail: str = ""


@dataclass(frozen=True)
class SessionStarted:
    info: SessionInfo


@dataclass(frozen=True)
class SessionEnded:
    info: SessionInfo
    reason: str  # the CloseReason value the viewer was told


@dataclass(frozen=True)
class SessionRefused:
    """This office PC refused a viewer (its own decision: not registered, outside hours...)."""

    user: str
    tenant: str
    source: str
    reason: str  # the RefusalReason value the relay passes on


@dataclass(frozen=True)
class PolicyChanged:
    """The relay pushed a policy; ``policy`` is the effective one (local made stricter)."""

    policy: Policy


@dataclass(frozen=True)
class ShutdownWarning:
    """The scheduled shutdown is near (the viewer gets its own notice from the session)."""

    at: str  # HH:MM, local time of the office PC
    minutes_left: int


@dataclass(frozen=True)
class Shutdown:
    """The scheduled shutdown starts now: the session ends, then the shutdown command runs."""

    at: str


@dataclass(frozen=True)
class CentralDevicesChanged:
    """A signed central list of home PCs from the tenant's admins verified and now applies."""

    central: CentralDeviceList


@dataclass(frozen=True)
class CentralDevicesRefused:
    """The relay pushed a central list of home PCs that did not verify (another key, another
    office PC, an older serial...): it was not applied. ``reason``: a SignedListError reason."""

    tenant: str
    reason: str


AgentEvent = (
    StateChanged
    | SessionStarted
    | SessionEnded
    | SessionRefused
    | PolicyChanged
    | ShutdownWarning
    | Shutdown
    | CentralDevicesChanged
    | CentralDevicesRefused
)
# What the status file must reflect: it is rewritten on each of these.
STATUS_EVENTS = (StateChanged, SessionStarted, SessionEnded)
