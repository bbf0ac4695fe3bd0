"""Names a peer gives that fail validation never reach the relay's log or audit text raw: a
newline or an escape sequence in a tenant, user, host ID, office PC name or agent version
cannot forge a log line or repaint an operator's terminal.

Real relay on loopback; what it logs is read with caplog, what it audits from the directory.
"""

from __future__ import annotations

import logging

import pytest

from core.crypto.certs import generate_identity
from core.protocol.control import Login
from tests.integration.relay_harness import TENANT, USER, HostAgent
from transport.client import RefusedByRelay, enroll, host_login, viewer_login

FORGED = "\n2026-12-06 12:00:00 INFO telework.relay audit login_ok\x1b[2J\x1b]0;owned\x07\u2028"
SHORT = "\nINFO ok\x1b[2J\u2028"  # within the home-check report's string sizes
RAW = ("\n", "\r", "\x1b", "\x07", "\u2028")


def assert_no_raw(texts: list[str]) -> None:
    for text in texts:
        for character in RAW:
            assert character not in text, (character, text)


def strings(value: object) -> list[str]:
    """Every string in a record's details (keys and values, however nested)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in strings(item)]
    return []


async def test_forged_names_are_neither_logged_nor_audited_raw(relay, caplog):
    caplog.set_level(logging.DEBUG)
    host = await HostAgent(relay).start()
    relay.directory.grant(TENANT, USER, host.host_id)
    device = generate_identity("home-pc")
    try:
        for tenant, user in [
            (TENANT + FORGED, USER),
            (TENANT, USER + FORGED),
            (FORGED, FORGED),
        ]:
            login = Login(tenant, user, "000000", host.host_id, device.cert_pem.decode(), [])
            with pytest.raises(RefusedByRelay):
                await viewer_login(relay.endpoint, login, device)
        # What the home PC says of itself is kept in the refusal's record: plain text only.
        relay.directory.set_tenant_policy(TENANT, {"min_viewer_version": "9.0"})
        for report in (
            {"viewer_version": "1.0", "os_name": "Windows 11" + SHORT},
            {"viewer_version": "1.0" + SHORT, "os_name": "Windows 11"},
        ):
            login = Login(
                TENANT,
                USER,
                relay.totp_now(),
                host.host_id,
                device.cert_pem.decode(),
                [],
                "",
                report,
            )
            with pytest.raises(RefusedByRelay):
                await viewer_login(relay.endpoint, login, device)
        with pytest.raises(RefusedByRelay):
            await host_login(relay.endpoint, "A" * 20 + FORGED, "secret", "test" + FORGED)
        with pytest.raises(RefusedByRelay):
            await enroll(relay.endpoint, "token" + FORGED, generate_identity("pc"), FORGED, FORGED)
        for name in ("PC" + FORGED, "PC\u2028forged", "PC\u2029forged"):
            now = relay.server.context.wall()
            token = relay.directory.issue_enrollment_token(TENANT, 600, now)
            with pytest.raises(RefusedByRelay):  # a valid token, a name that is not
                await enroll(relay.endpoint, token, generate_identity("pc"), name, "1.0")
    finally:
        await host.stop()
    records = relay.directory.list_audit(limit=10_000)
    refused = [r for r in records if r.event.endswith("_refused")]
    assert len(refused) >= 4  # the attempts were audited
    enrolled = [r.detail["name"] for r in records if r.event == "host_enrolled"]
    assert enrolled == ["PC-01"]  # the harness's office PC alone
    assert_no_raw([str(value) for r in records for value in (r.tenant, r.user, r.host_id)])
    assert_no_raw([text for r in records for text in strings(r.detail)])
    assert_no_raw([entry.getMessage() for entry in caplog.records])
