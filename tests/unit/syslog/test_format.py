"""RFC 5424 messages and RFC 6587 framing, byte for byte; destinations and their checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.crypto.certs import generate_identity
from core.syslog import (
    MAX_SYSLOG_CA_PEM_BYTES,
    MAX_SYSLOG_MESSAGE_BYTES,
    Facility,
    Severity,
    SyslogConfigError,
    SyslogMessage,
    Transport,
    escape_param_value,
    format_message,
    octet_counted,
    parse_destination,
    pri,
    read_octet_counted,
)

TS = 1_767_225_600.25  # 2026-01-01T00:00:00.25Z
BOM = b"\xef\xbb\xbf"


def message(**changes: object) -> SyslogMessage:
    fields: dict[str, object] = {
        "facility": Facility.LOCAL0,
        "severity": Severity.WARNING,
        "timestamp": TS,
        "hostname": "relay1",
        "app_name": "telework-relay",
        "msgid": "login_refused",
        "structured": {"tenant": "横浜市", "user": None, "source": "192.0.2.1"},
        "msg": '{"reason":"wrong_otp"}',
        "procid": "42",
    }
    fields.update(changes)
    return SyslogMessage(**fields)  # type: ignore[arg-type]


def test_a_message_byte_for_byte():
    assert format_message(message()) == (
        b"<132>1 2026-01-01T00:00:00.250000Z relay1 telework-relay 42 login_refused "
        + '[telework@32473 tenant="横浜市" source="192.0.2.1"] '.encode()
        + BOM
        + b'{"reason":"wrong_otp"}'
    )


@pytest.mark.parametrize(
    ("facility", "severity", "expected"),
    [
        (Facility.AUTH, Severity.EMERGENCY, 32),
        (Facility.LOCAL7, Severity.DEBUG, 191),
        (Facility.LOG_AUDIT, Severity.NOTICE, 109),
    ],
)
def test_pri_is_facility_times_eight_plus_severity(facility, severity, expected):
    assert pri(facility, severity) == expected
    assert format_message(message(facility=facility, severity=severity)).startswith(
        f"<{expected}>1 ".encode()
    )


def test_param_values_escape_quote_backslash_and_bracket():
    assert escape_param_value('a"b\\c]d') == 'a\\"b\\\\c\\]d'
    text = format_message(message(structured={"user": 'x"] [evil="1'}, msg=""))
    assert text.endswith(b'[telework@32473 user="x\\"\\] [evil=\\"1"]')


def test_header_fields_are_printable_ascii_cut_to_their_sizes_or_nil():
    text = format_message(
        message(hostname="", app_name="a b\nc", msgid="m" * 40, structured={}, msg="")
    )
    assert text == b"<132>1 2026-01-01T00:00:00.250000Z - a?b?c 42 " + b"m" * 32 + b" -"


def test_a_message_too_large_is_cut_on_a_character_boundary():
    text = format_message(message(msg="あ" * MAX_SYSLOG_MESSAGE_BYTES))
    assert len(text) <= MAX_SYSLOG_MESSAGE_BYTES
    assert len(text) > MAX_SYSLOG_MESSAGE_BYTES - 3
    text.decode("utf-8")  # no half character at the end


def test_octet_counting_frames_and_reads_back():
    one, two = format_message(message()), format_message(message(msgid="login"))
    stream = octet_counted(one) + octet_counted(two)
    assert octet_counted(b"abc") == b"3 abc"
    assert read_octet_counted(stream) == ([one, two], b"")
    assert read_octet_counted(stream[:-3]) == ([one], octet_counted(two)[:-3])


@given(st.text(), st.text())
def test_any_value_stays_inside_its_param(value, msg):
    text = format_message(message(structured={"user": value}, msg=msg))
    header, _, _ = text.partition(BOM)
    sd = header.split(b" ", 6)[6]
    assert sd.startswith(b'[telework@32473 user="')
    # the only unescaped quote and bracket are the ones closing the element
    body = sd[len(b'[telework@32473 user="') :].decode()
    unescaped, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        if body[i] in '"]':
            unescaped.append(i)
        i += 1
    assert [body[j] for j in unescaped] == ['"', "]"]


def test_destinations_and_their_default_ports():
    tls = parse_destination("tls://logs.example.jp")
    assert (tls.transport, tls.host, tls.port, tls.url) == (
        Transport.TLS,
        "logs.example.jp",
        6514,
        "tls://logs.example.jp:6514",
    )
    udp = parse_destination("udp://[2001:db8::1]:1514")
    assert (udp.transport, udp.host, udp.port, udp.encrypted) == (
        Transport.UDP,
        "2001:db8::1",
        1514,
        False,
    )
    assert parse_destination(udp.url) == udp


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("logs.example.jp:514", "syslog_bad_url"),
        ("tcp://logs.example.jp:514", "syslog_bad_scheme"),
        ("tls://logs.example.jp:0", "syslog_bad_port"),
        ("tls://logs.example.jp:65536", "syslog_bad_port"),
        ("tls://bad_name.example:6514", "syslog_bad_host"),
        ("tls://-x.example:6514", "syslog_bad_host"),
        ("tls://" + "a." * 130 + "jp", "syslog_bad_host"),
        ("tls://1.2.3.999", "syslog_bad_host"),
    ],
)
def test_bad_destinations_say_why(url, code):
    with pytest.raises(SyslogConfigError) as refused:
        parse_destination(url)
    assert refused.value.code == code


def test_trust_is_checked():
    pem = generate_identity("collector").cert_pem.decode()
    assert parse_destination("tls://c.example", ca_pem=pem).ca_pem == pem
    pin = "AB:" * 31 + "AB"
    assert parse_destination("tls://c.example", fingerprint=pin).fingerprint == "ab" * 32
    for kwargs, code in (
        ({"ca_pem": "not a certificate"}, "syslog_bad_ca"),
        ({"ca_pem": pem + " " * MAX_SYSLOG_CA_PEM_BYTES}, "syslog_ca_too_large"),
        ({"fingerprint": "12ab"}, "syslog_bad_fingerprint"),
        ({"ca_pem": pem, "fingerprint": pin}, "syslog_ca_and_fingerprint"),
    ):
        with pytest.raises(SyslogConfigError) as refused:
            parse_destination("tls://c.example", **kwargs)  # type: ignore[arg-type]
        assert refused.value.code == code
    with pytest.raises(SyslogConfigError) as refused:
        parse_destination("udp://c.example", ca_pem=pem)
    assert refused.value.code == "syslog_trust_on_udp"
