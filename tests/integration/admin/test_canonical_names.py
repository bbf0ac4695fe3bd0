"""Names reach answers, audit records and audit searches in the form the directory stores and
compares them: NFKC logins and host names ("ｓａｔｏ" is "sato"), bare host IDs (the console
shows them grouped with dashes, and an admin may paste that form)."""

from __future__ import annotations

from core.crypto.certs import format_host_id
from tests.integration.admin.conftest import TENANT, tenant_path

GRANTS = tenant_path(TENANT, "/grants")


async def test_grants_answer_and_audit_the_stored_login(world):
    api, host = world
    directory = api.relay.directory
    directory.add_user(TENANT, "sato")
    shown = format_host_id(host.host_id)
    status, body = await api.as_(
        "alice", "POST", GRANTS, json={"login": "ｓａｔｏ", "host_id": shown}
    )
    assert status == 201
    assert body == {"login": "sato", "host_id": host.host_id}
    status, _ = await api.as_("alice", "DELETE", f"{GRANTS}/ｓａｔｏ/{shown}")
    assert status == 204 and not directory.is_granted(TENANT, "sato", host.host_id)
    records = directory.list_audit(tenant=TENANT)
    changes = [
        (r.event, r.user, r.host_id) for r in records if r.event in ("admin.grant", "admin.revoke")
    ]
    assert changes == [
        ("admin.grant", "sato", host.host_id),
        ("admin.revoke", "sato", host.host_id),
    ]


async def test_audit_filters_find_records_however_names_are_typed(world):
    api, host = world
    directory = api.relay.directory
    directory.add_user(TENANT, "sato")
    status, _ = await api.as_(
        "alice", "POST", GRANTS, json={"login": "sato", "host_id": host.host_id}
    )
    assert status == 201
    audit = tenant_path(TENANT, "/audit")
    status, body = await api.as_("alice", "GET", f"{audit}?user=ｓａｔｏ")
    assert status == 200
    assert [r["event"] for r in body["records"]] == ["admin.grant"]
    for typed in (format_host_id(host.host_id), format_host_id(host.host_id).lower()):
        status, body = await api.as_("alice", "GET", f"{audit}?host_id={typed}")
        assert status == 200
        assert "admin.grant" in [r["event"] for r in body["records"]], typed
        assert all(r["host_id"] == host.host_id for r in body["records"])
    status, body = await api.as_("alice", "GET", f"{audit}?host_id=not-a-host-id")
    assert status == 400 and "host ID" in body["error"]


async def test_rename_answers_and_audits_the_stored_name(world):
    api, host = world
    status, body = await api.as_(
        "alice", "PATCH", tenant_path(TENANT, f"/hosts/{host.host_id}"), json={"name": "ＰＣ－０２"}
    )
    assert status == 200
    assert (body["host_id"], body["name"]) == (host.host_id, "PC-02")  # the office PC as listed
    (stored,) = api.relay.directory.list_hosts(TENANT)
    assert stored.name == "PC-02"
    (record,) = api.relay.directory.list_audit(event="admin.host_rename")
    assert record.detail["name"] == "PC-02"
