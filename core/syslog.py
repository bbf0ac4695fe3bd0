"""Syslog messages (RFC 5424), their framing on a stream (RFC 6587 octet counting) and where
they go (a collector's address and how it is trusted): pure, no sockets.

The relay sends a copy of each audit record to syslog collectors, and an office PC its own
session log; both build their messages here and hand the bytes to ``transport.syslog``.
A message is::

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID param="value"...] BOM MSG

Header fields are printable US-ASCII only (anything else becomes ``?``) and cut to the RFC's
sizes; structured-data values escape ``"``, ``\\`` and ``]``; the message is UTF-8 (Japanese
names) behind the BOM the RFC asks for.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import re
from dataclasses import dataclass

from cryptography import x509

from core.crypto.certs import parse_fingerprint
from core.errors import CryptoError, LocalError

# Our structured-data ID. Private SD-IDs are NAME@<enterprise number>; 32473 is the number
# RFC 5612 sets aside for examples and documentation, used until the project registers one.
SD_ID = "telework@32473"
# A formatted message, header included, is cut to this many bytes (its MSG shortened): an
# audit record's detail is at most 8 KiB (relay/store/audit.py), so only a damaged one is cut.
# A UDP datagram this large is fragmented on the way; collectors truncate past their own
# maximum (rsyslog: 8 KiB by default).
MAX_SYSLOG_MESSAGE_BYTES = 16 * 1024
# A collector's CA certificates as PEM text (one CA, or a short chain of them).
MAX_SYSLOG_CA_PEM_BYTES = 32 * 1024  # within the admin API's 64 KiB request
# The longest host name a destination may give (DNS: 253 characters).
MAX_SYSLOG_HOST_CHARS = 253

SYSLOG_VERSION = 1
NILVALUE = "-"
_BOM = b"\xef\xbb\xbf"
# Field sizes of RFC 5424 section 6.
_HOSTNAME_CHARS, _APP_NAME_CHARS, _PROCID_CHARS, _MSGID_CHARS, _SD_NAME_CHARS = 255, 48, 128, 32, 32
_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_SD_NAME_FORBIDDEN = re.compile(r'[^\x21-\x7e]|[= \]"]')
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_DESTINATION = re.compile(
    r"^(?P<scheme>[a-z]+)://(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:/\[\]\s]+))"
    r"(?::(?P<port>\d{1,5}))?/?$"
)


class Facility(enum.IntEnum):
    """The facilities an operator may pick (RFC 5424 table 1; the local ones are for sites)."""

    AUTH = 4
    AUTHPRIV = 10
    LOG_AUDIT = 13
    LOCAL0 = 16
    LOCAL1 = 17
    LOCAL2 = 18
    LOCAL3 = 19
    LOCAL4 = 20
    LOCAL5 = 21
    LOCAL6 = 22
    LOCAL7 = 23


class Severity(enum.IntEnum):
    EMERGENCY = 0
    ALERT = 1
    CRITICAL = 2
    ERROR = 3
    WARNING = 4
    NOTICE = 5
    INFO = 6
    DEBUG = 7


DEFAULT_FACILITY = Facility.LOCAL0


class Transport(enum.StrEnum):
    """How messages reach a collector: TLS over TCP (RFC 5425), or plain UDP (RFC 5426) for
    collectors too old for TLS, which anyone on the path can read and forge."""

    TLS = "tls"
    UDP = "udp"


DEFAULT_PORTS = {Transport.TLS: 6514, Transport.UDP: 514}


class SyslogConfigError(LocalError):
    """A syslog destination that cannot be used as given. ``code`` (with ``params``) says why
    in a form the console translates; the message is English, for logs and scripts."""

    def __init__(self, message: str, code: str, **params: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class SyslogMessage:
    """One syslog message, before formatting."""

    facility: Facility
    severity: Severity
    timestamp: float  # POSIX seconds
    hostname: str
    app_name: str
    msgid: str
    structured: dict[str, str | None]  # our SD element's params; None values are left out
    msg: str
    procid: str = NILVALUE


def pri(facility: int, severity: int) -> int:
    """The PRI value: facility times eight plus severity."""
    return facility * 8 + severity


def timestamp_text(ts: float) -> str:
    """RFC 3339 in UTC with microseconds (TIME-SECFRAC has at most six digits)."""
    when = dt.datetime.fromtimestamp(ts, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def header_field(text: str | None, max_chars: int) -> str:
    """A header field: printable US-ASCII, at most ``max_chars``; NILVALUE when empty."""
    if not text:
        return NILVALUE
    return _PRINTABLE.sub("?", text)[:max_chars]


def escape_param_value(value: str) -> str:
    """An SD-PARAM value with ``\\``, ``"`` and ``]`` escaped (RFC 5424 section 6.3.3)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _sd_name(name: str) -> str:
    if not name or len(name) > _SD_NAME_CHARS or _SD_NAME_FORBIDDEN.search(name):
        raise LocalError(f"not an SD-NAME: {name!r}")
    return name


def structured_data(sd_id: str, params: dict[str, str | None]) -> str:
    """One SD element (or NILVALUE if no param has a value)."""
    present = [(name, value) for name, value in params.items() if value is not None]
    if not present:
        return NILVALUE
    parts = "".join(f' {_sd_name(n)}="{escape_param_value(v)}"' for n, v in present)
    return f"[{_sd_id(sd_id)}{parts}]"


def _sd_id(sd_id: str) -> str:
    name, _, number = sd_id.partition("@")
    _sd_name(name)
    if not number.isdigit():
        raise LocalError(f"a private SD-ID is NAME@NUMBER, not {sd_id!r}")
    return sd_id


def format_message(message: SyslogMessage, max_bytes: int = MAX_SYSLOG_MESSAGE_BYTES) -> bytes:
    """The message as RFC 5424 bytes, at most ``max_bytes`` (its MSG cut on a character
    boundary if need be)."""
    header = " ".join(
        (
            f"<{pri(message.facility, message.severity)}>{SYSLOG_VERSION}",
            timestamp_text(message.timestamp),
            header_field(message.hostname, _HOSTNAME_CHARS),
            header_field(message.app_name, _APP_NAME_CHARS),
            header_field(message.procid, _PROCID_CHARS),
            header_field(message.msgid, _MSGID_CHARS),
            structured_data(SD_ID, message.structured),
        )
    ).encode()  # SD values may be Japanese: PARAM-VALUE is UTF-8
    if not message.msg:
        return header[:max_bytes]
    body = message.msg.encode()
    room = max_bytes - len(header) - 1 - len(_BOM)
    if len(body) > room:
        body = body[: max(room, 0)].decode("utf-8", "ignore").encode()
    return header + b" " + _BOM + body


def octet_counted(message: bytes) -> bytes:
    """The message framed for a stream (RFC 6587 section 3.4.1): its length, a space, itself."""
    return b"%d %s" % (len(message), message)


def read_octet_counted(data: bytes) -> tuple[list[bytes], bytes]:
    """Split octet-counted frames off ``data``: the whole messages, and what is left over
    (a frame still incomplete). For tests and tools that play the collector."""
    messages: list[bytes] = []
    while True:
        length, space, rest = data.partition(b" ")
        if not space:
            return messages, data
        if not length.isdigit() or len(length) > len(str(MAX_SYSLOG_MESSAGE_BYTES)):
            raise LocalError("not an octet-counted syslog frame")
        size = int(length)
        if len(rest) < size:
            return messages, data
        messages.append(rest[:size])
        data = rest[size:]


@dataclass(frozen=True)
class SyslogDestination:
    """A collector: how to reach it, and (for TLS) how its certificate is checked: against
    ``ca_pem``, or by its SHA-256 ``fingerprint``, or else against the system's CAs."""

    transport: Transport
    host: str
    port: int
    ca_pem: str | None = None
    fingerprint: str | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport.value}://{host}:{self.port}"

    @property
    def encrypted(self) -> bool:
        return self.transport is Transport.TLS

    def __str__(self) -> str:
        return self.url


def parse_destination(
    url: str, *, ca_pem: str | None = None, fingerprint: str | None = None
) -> SyslogDestination:
    """``tls://HOST[:PORT]`` or ``udp://HOST[:PORT]`` (ports 6514 and 514 by default), with
    the TLS collector's trust; :class:`SyslogConfigError` says what is wrong."""
    match = _DESTINATION.match(url.strip())
    if match is None:
        raise SyslogConfigError(
            "a syslog destination is tls://HOST:PORT or udp://HOST:PORT", "syslog_bad_url"
        )
    try:
        transport = Transport(match["scheme"])
    except ValueError:
        raise SyslogConfigError(
            "a syslog destination's scheme is tls or udp", "syslog_bad_scheme"
        ) from None
    host = match["v6"] or match["host"]
    check_host(host)
    port = int(match["port"]) if match["port"] else DEFAULT_PORTS[transport]
    if not 1 <= port <= 65535:
        raise SyslogConfigError(
            "a syslog port is from 1 to 65535", "syslog_bad_port", minimum=1, maximum=65535
        )
    if transport is Transport.UDP and (ca_pem or fingerprint):
        raise SyslogConfigError(
            "UDP syslog is not encrypted: a CA or fingerprint means nothing there",
            "syslog_trust_on_udp",
        )
    if ca_pem and fingerprint:
        raise SyslogConfigError(
            "give the collector's CA or its fingerprint, not both", "syslog_ca_and_fingerprint"
        )
    return SyslogDestination(
        transport,
        host,
        port,
        check_ca_pem(ca_pem) if ca_pem else None,
        _fingerprint(fingerprint) if fingerprint else None,
    )


def check_host(host: str) -> str:
    """A collector's host: an IP address, or a DNS name of letters, digits and hyphens."""
    if len(host) > MAX_SYSLOG_HOST_CHARS:
        raise SyslogConfigError(
            "the syslog host name is too long", "syslog_bad_host", maximum=MAX_SYSLOG_HOST_CHARS
        )
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise SyslogConfigError(f"not a host name or address: {host[:64]!r}", "syslog_bad_host")
    return host


def check_ca_pem(text: str) -> str:
    """PEM text of one or more CA certificates, within MAX_SYSLOG_CA_PEM_BYTES."""
    data = text.encode()
    if len(data) > MAX_SYSLOG_CA_PEM_BYTES:
        raise SyslogConfigError(
            "the collector's CA file is too large",
            "syslog_ca_too_large",
            maximum=MAX_SYSLOG_CA_PEM_BYTES,
        )
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        raise SyslogConfigError(
            "the collector's CA is not a PEM certificate", "syslog_bad_ca"
        ) from None
    return text


def _fingerprint(text: str) -> str:
    try:
        return parse_fingerprint(text)
    except CryptoError:
        raise SyslogConfigError(
            "a certificate fingerprint is 64 hexadecimal digits (SHA-256)",
            "syslog_bad_fingerprint",
        ) from None
