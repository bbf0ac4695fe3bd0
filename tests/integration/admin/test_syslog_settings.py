"""A tenant's syslog collector through the admin API: its own admins set and clear it (each
change audited, followed at once by the relay), nobody else's; bad input is refused with a code
the console translates, and changes nothing."""

from __future__ import annotations

import pytest

from core.crypto.certs import fingerprint, generate_identity, pem_to_der
from core.syslog import MAX_SYSLOG_CA_PEM_BYTES
from relay.syslog import OPERATOR
from tests.integration.admin.conftest import OTHER_TENANT, TENANT, Api, tenant_path

PATH = tenant_path(TENANT, "/syslog")


async def test_a_tenant_admin_sets_and_clears_the_collector(api: Api):
    status, body = await api.as_("alice", "GET", PATH)
    assert (status, body["url"]) == (200, None)
    pem = generate_identity("collector").cert_pem.decode()
    status, body = await api.as_(
        "alice", "PUT", PATH, json={"url": "tls://logs.example.jp", "ca_pem": pem}
    )
    assert status == 200
    assert body == {
        "tenant": TENANT,
        "url": "tls://logs.example.jp:6514",
        "encrypted": True,
        "ca_pem": pem,
        "fingerprint": None,
    }
    sender = api.relay.server.syslog.senders[f"tenant/{TENANT}"]
    assert sender.destination.url == "tls://logs.example.jp:6514"
    (record,) = api.relay.directory.list_audit(event="admin.syslog_set")
    assert record.detail == {
        "admin": "alice",
        "url": "tls://logs.example.jp:6514",
        "encrypted": True,
        "trust": "ca",
    }
    status, body = await api.as_("alice", "PUT", PATH, json={"url": "udp://192.0.2.7"})
    assert (status, body["encrypted"], body["url"]) == (200, False, "udp://192.0.2.7:514")
    status, body = await api.as_("alice", "DELETE", PATH)
    assert (status, body["url"]) == (200, None)
    assert f"tenant/{TENANT}" not in api.relay.server.syslog.senders
    assert api.relay.directory.list_audit(event="admin.syslog_clear")
    assert OPERATOR not in api.relay.server.syslog.senders  # no --syslog: no operator's


async def test_another_tenants_admin_cannot_see_or_set_it(api: Api):
    status, body = await api.as_("bob", "PUT", PATH, json={"url": "udp://192.0.2.7"})
    assert (status, body["code"]) == (404, "no_such_tenant")
    status, _ = await api.as_(
        "bob", "PUT", tenant_path(OTHER_TENANT, "/syslog"), json={"url": "udp://192.0.2.8"}
    )
    assert status == 200
    assert api.relay.directory.get_syslog(TENANT) is None


@pytest.mark.parametrize(
    ("body", "code", "params"),
    [
        ({"url": "tcp://logs.example.jp:514"}, "syslog_bad_scheme", {}),
        (
            {"url": "tls://logs.example.jp:70000"},
            "syslog_bad_port",
            {"minimum": 1, "maximum": 65535},
        ),
        ({"url": "tls://logs_example"}, "syslog_bad_host", {}),
        ({"url": "logs.example.jp"}, "syslog_bad_url", {}),
        ({"url": "tls://logs.example.jp", "ca_pem": "junk"}, "syslog_bad_ca", {}),
        ({"url": "tls://logs.example.jp", "fingerprint": "abc"}, "syslog_bad_fingerprint", {}),
        ({"url": "udp://logs.example.jp", "fingerprint": "ab" * 32}, "syslog_trust_on_udp", {}),
        (
            {"url": "tls://logs.example.jp", "ca_pem": "x" * (MAX_SYSLOG_CA_PEM_BYTES + 1)},
            "field_too_long",
            {"field": "ca_pem", "max_length": MAX_SYSLOG_CA_PEM_BYTES},
        ),
    ],
)
async def test_bad_input_is_refused_with_a_code_and_changes_nothing(api: Api, body, code, params):
    pin = fingerprint(pem_to_der(generate_identity("c").cert_pem))
    status, _ = await api.as_(
        "alice", "PUT", PATH, json={"url": "tls://c.example", "fingerprint": pin}
    )
    assert status == 200
    before = api.relay.directory.get_syslog(TENANT)
    status, answer = await api.as_("alice", "PUT", PATH, json=body)
    assert (status, answer["code"], answer["params"]) == (400, code, params)
    assert api.relay.directory.get_syslog(TENANT) == before
    assert api.relay.server.syslog.senders[f"tenant/{TENANT}"].destination == before
    assert len(api.relay.directory.list_audit(event="admin.syslog_set")) == 1
