"""Messages of the relay layer: enrolment, host control channel, viewer login.

Each message is a frozen dataclass; its payload on the wire is a compact JSON object. JSON is
fine here: these frames are rare and small, and :func:`decode_control` validates every field's
type and size against the dataclass before anything else sees it. Unknown fields are ignored
(forward compatibility); missing or mistyped ones are a :class:`ProtocolError`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from core.errors import ProtocolError
from core.protocol.framing import MAX_CONTROL_PAYLOAD, Frame, encode_frame

# A PEM certificate is the longest string we carry (~1 kB for EC keys); 8 kB bounds it.
MAX_STRING_CHARS = 8 * 1024
# MAC addresses reported by a viewer: real machines have a handful of interfaces.
MAX_LIST_ITEMS = 32
# Policies are small flat objects; this bounds their nesting and size on top of the frame limit.
MAX_OBJECT_KEYS = 64
# Host control channel keepalive, as IPA's gates do: the relay pings every 10 s (and says so in
# ``HostReady``), and either end declares a channel silent for 30 s dead.
KEEPALIVE_INTERVAL_S = 10.0
DEAD_AFTER_KEEPALIVES = 3  # silent for this many keepalive intervals: dead
DEAD_AFTER_S = DEAD_AFTER_KEEPALIVES * KEEPALIVE_INTERVAL_S


class ControlType(enum.IntEnum):
    ENROLL = 0x01
    ENROLLED = 0x02
    HOST_AUTH = 0x03
    HOST_READY = 0x04
    PING = 0x05
    PONG = 0x06
    SESSION_OFFER = 0x07
    SESSION_ANSWER = 0x08
    SESSION_END = 0x09
    POLICY = 0x0A
    ATTACH = 0x0B
    ATTACHED = 0x0C
    LOGIN = 0x0D
    PROGRESS = 0x0E
    LOGIN_OK = 0x0F
    REFUSED = 0x10
    WAKE = 0x11
    DEVICE_LIST = 0x12


class RefusalReason(enum.StrEnum):
    """Every refusal the relay or a host can give; the apps translate these codes for users.

    ``WRONG_OTP`` covers unknown users too, so a login never tells which user names exist.
    """

    WRONG_OTP = "wrong_otp"
    LOCKED_OUT = "locked_out"
    NOT_GRANTED = "not_granted"
    HOST_OFFLINE = "host_offline"
    HOST_BUSY = "host_busy"
    REFUSED_BY_HOST = "refused_by_host"
    MAC_NOT_REGISTERED = "mac_not_registered"
    DEVICE_NOT_REGISTERED = "device_not_registered"  # the home PC's key is not on its list
    OUTSIDE_HOURS = "outside_hours"
    HOST_PAUSED = "host_paused"
    HOST_TIMEOUT = "host_timeout"
    BAD_ENROLLMENT_TOKEN = "bad_enrollment_token"  # noqa: S105 - a reason code, not a secret
    BAD_HOST_CREDENTIAL = "bad_host_credential"
    BAD_RESUME_TICKET = "bad_resume_ticket"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    PROTOCOL_ERROR = "protocol_error"
    SERVER_ERROR = "server_error"
    SHUTTING_DOWN = "shutting_down"
    # The home-PC check (core/homecheck): a required check failed (``Refused.checks`` names
    # which), no report came when the policy needs one, or the viewer is older than the minimum.
    HOME_PC_CHECK_FAILED = "home_pc_check_failed"
    HOME_PC_UNCHECKED = "home_pc_unchecked"
    VIEWER_TOO_OLD = "viewer_too_old"
    # Wake-on-LAN (a login with ``wake``): no office PC of the tenant that may wake others is
    # online on the sleeping one's LAN (or its LAN is not known yet); or it was woken but did
    # not come online in time.
    WAKE_UNAVAILABLE = "wake_unavailable"
    WAKE_TIMEOUT = "wake_timeout"


class ProgressStage(enum.StrEnum):
    """How far a viewer's login has come; the viewer translates these for its user.

    The relay sends ``WAITING_FOR_HOST`` in :class:`Progress` while the office PC decides; the
    viewer's side reports the others itself.
    """

    CHECKING_HOME_PC = "checking_home_pc"  # the viewer runs its home-PC check (core/homecheck)
    CONNECTING_TO_RELAY = "connecting_to_relay"
    WAITING_FOR_HOST = "waiting_for_host"
    WAKING_HOST = "waking_host"  # the relay had the office PC woken and waits for it to start
    SECURING_CHANNEL = "securing_channel"
    RECEIVING_SCREEN = "receiving_screen"  # logged in, until the first picture
    RECONNECTING = "reconnecting"  # the link dropped; logging in again with the ticket


class ControlMessage:
    TYPE: ClassVar[ControlType]


@dataclass(frozen=True, slots=True)
class Enroll(ControlMessage):
    TYPE = ControlType.ENROLL
    token: str
    name: str
    agent_version: str
    cert_pem: str
    lan_mac: str = ""  # as HostAuth's
    lan_address: str = ""


@dataclass(frozen=True, slots=True)
class Enrolled(ControlMessage):
    TYPE = ControlType.ENROLLED
    host_id: str
    secret: str
    tenant: str
    keepalive_s: int  # the link stays open as the control channel: same keepalive as HostReady


@dataclass(frozen=True, slots=True)
class HostAuth(ControlMessage):
    TYPE = ControlType.HOST_AUTH
    host_id: str
    secret: str
    agent_version: str
    # The office PC's network card towards the relay, for Wake-on-LAN (core.wake.LanCard):
    # its MAC and its IPv4 address with prefix ("192.0.2.7/24"); "" when not known.
    lan_mac: str = ""
    lan_address: str = ""


@dataclass(frozen=True, slots=True)
class HostReady(ControlMessage):
    TYPE = ControlType.HOST_READY
    host_id: str
    tenant: str
    keepalive_s: int


@dataclass(frozen=True, slots=True)
class Ping(ControlMessage):
    TYPE = ControlType.PING
    nonce: int


@dataclass(frozen=True, slots=True)
class Pong(ControlMessage):
    TYPE = ControlType.PONG
    nonce: int


@dataclass(frozen=True, slots=True)
class SessionOffer(ControlMessage):
    """Relay asks a host whether it accepts this viewer. The host decides by its own rules."""

    TYPE = ControlType.SESSION_OFFER
    session_id: str
    tenant: str
    user: str
    device_cert: str  # the viewer's self-signed device certificate (PEM); its key signs in E2E TLS
    macs: list[str]
    source: str
    # Where the office PC attaches this session's data connection, HOST:PORT: the relay node
    # the viewer is on (a cluster); "" for the address its control channel uses.
    attach_to: str = ""
    # The viewer's home-PC check report as the login carried it ({}: none), for the office
    # PC's own policy (core.homecheck.report.HomeReport.from_wire reads it).
    home_check: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SessionAnswer(ControlMessage):
    TYPE = ControlType.SESSION_ANSWER
    session_id: str
    accept: bool
    reason: str = ""
    checks: list[str] = dataclasses.field(default_factory=list)  # home-PC checks that failed
    # OUTSIDE_HOURS: the allowed hours, core.policy.HoursSpan.to_wire ("mon-fri 08:30-18:00").
    hours: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SessionEnd(ControlMessage):
    TYPE = ControlType.SESSION_END
    session_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Policy(ControlMessage):
    TYPE = ControlType.POLICY
    policy: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Attach(ControlMessage):
    """A host's data connection for one accepted session, authenticated like its control one."""

    TYPE = ControlType.ATTACH
    host_id: str
    secret: str
    session_id: str


@dataclass(frozen=True, slots=True)
class Attached(ControlMessage):
    TYPE = ControlType.ATTACHED
    session_id: str


@dataclass(frozen=True, slots=True)
class Login(ControlMessage):
    TYPE = ControlType.LOGIN
    tenant: str
    user: str
    otp: str
    host_id: str
    device_cert: str  # PEM; the device fingerprint is the SHA-256 of its DER form
    macs: list[str]
    resume_ticket: str = ""
    # What the home PC says of itself (core.homecheck.report.HomeReport.to_wire); {}: no check.
    home_check: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Wake the office PC if it is off (Wake-on-LAN through another office PC of the tenant),
    # and wait for it: the user asked, after a HOST_OFFLINE refusal.
    wake: bool = False


@dataclass(frozen=True, slots=True)
class Progress(ControlMessage):
    TYPE = ControlType.PROGRESS
    stage: str  # a ProgressStage value


@dataclass(frozen=True, slots=True)
class LoginOk(ControlMessage):
    TYPE = ControlType.LOGIN_OK
    session_id: str
    resume_ticket: str
    resume_ttl_s: int
    login_message: str = ""  # the tenant's words for its staff, shown as they are


@dataclass(frozen=True, slots=True)
class Refused(ControlMessage):
    TYPE = ControlType.REFUSED
    reason: str
    retry_after: int = 0  # epoch seconds when a lockout ends, 0 when not locked
    # After a successful login refused for a transient host reason: retry with this, no OTP.
    resume_ticket: str = ""
    checks: list[str] = dataclasses.field(default_factory=list)  # home-PC checks that failed
    # OUTSIDE_HOURS: when the office PC lets viewers in, as spans the relay checked
    # (core.policy.hours_from_wire reads them; the viewer puts them in its own words).
    hours: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Wake(ControlMessage):
    """The relay asks an office PC to send a Wake-on-LAN magic packet to a sleeping office PC
    of its tenant on its own LAN (``address``: that PC's last IPv4 address with prefix)."""

    TYPE = ControlType.WAKE
    mac: str
    address: str


@dataclass(frozen=True, slots=True)
class DeviceList(ControlMessage):
    """The office PC's central list of home PCs, signed by the tenant's admin key, which the
    relay does not hold (core.hostpolicy.signed_devices.SignedDeviceList's fields): the
    relay stores and pushes it; the office PC verifies it against the key it pinned."""

    TYPE = ControlType.DEVICE_LIST
    payload: str
    signature: str
    public_key: str


MESSAGE_CLASSES: dict[int, type[ControlMessage]] = {
    cls.TYPE: cls
    for cls in (
        Enroll,
        Enrolled,
        HostAuth,
        HostReady,
        Ping,
        Pong,
        SessionOffer,
        SessionAnswer,
        SessionEnd,
        Policy,
        Attach,
        Attached,
        Login,
        Progress,
        LoginOk,
        Refused,
        Wake,
        DeviceList,
    )
}


def encode_control(message: ControlMessage) -> bytes:
    body = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}  # type: ignore[arg-type]
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return encode_frame(message.TYPE, payload, MAX_CONTROL_PAYLOAD)


def decode_control(frame: Frame) -> ControlMessage:
    cls = MESSAGE_CLASSES.get(frame.type)
    if cls is None:
        raise ProtocolError(f"unknown control message type {frame.type:#04x}")
    try:
        body = json.loads(frame.payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"{cls.__name__}: payload is not JSON") from exc
    if not isinstance(body, dict):
        raise ProtocolError(f"{cls.__name__}: payload is not an object")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in body:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ProtocolError(f"{cls.__name__}: missing field {f.name!r}")
            continue
        values[f.name] = _checked(cls.__name__, f.name, _hints(cls)[f.name], body[f.name])
    return cls(**values)


def _hints(cls: type) -> dict[str, Any]:
    cached: dict[str, Any] | None = _HINTS.get(cls)
    if cached is None:
        cached = _HINTS[cls] = typing.get_type_hints(cls)
    return cached


_HINTS: dict[type, dict[str, Any]] = {}


def _checked(message: str, name: str, hint: Any, value: Any) -> Any:
    where = f"{message}.{name}"
    if hint is bool:
        if not isinstance(value, bool):
            raise ProtocolError(f"{where}: expected a boolean")
    elif hint is int:
        if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
            raise ProtocolError(f"{where}: expected a 64-bit integer")
    elif hint is str:
        _check_string(where, value)
    elif hint == list[str]:
        if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
            raise ProtocolError(f"{where}: expected a list of at most {MAX_LIST_ITEMS} strings")
        for item in value:
            _check_string(where, item)
    elif hint == dict[str, Any]:
        if not isinstance(value, dict) or len(value) > MAX_OBJECT_KEYS:
            raise ProtocolError(f"{where}: expected an object of at most {MAX_OBJECT_KEYS} keys")
    else:  # pragma: no cover - a programming error in this module, caught by its tests
        raise TypeError(f"unsupported field type {hint!r} for {where}")
    return value


def _check_string(where: str, value: Any) -> None:
    if not isinstance(value, str) or len(value) > MAX_STRING_CHARS:
        raise ProtocolError(f"{where}: expected a string of at most {MAX_STRING_CHARS} characters")
