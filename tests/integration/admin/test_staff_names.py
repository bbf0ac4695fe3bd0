"""Staff members' full names and departments through the admin API: given when adding, changed
with PATCH (audited, naming the fields and not their values), listed, and refused when too
long or not printable text, with nothing changed."""

from __future__ import annotations

import pytest

from relay.store.schema import MAX_DEPARTMENT_LEN, MAX_FULL_NAME_LEN
from tests.integration.admin.conftest import TENANT, snapshot, tenant_path

STAFF = tenant_path(TENANT, "/staff")


async def test_names_given_at_adding_then_changed_and_listed(api):
    status, body = await api.as_(
        "alice",
        "POST",
        STAFF,
        json={"login": "sato", "full_name": "佐藤 一郎", "department": "税務課"},
    )
    assert status == 201, body
    assert (body["full_name"], body["department"]) == ("佐藤 一郎", "税務課")
    status, body = await api.as_("alice", "POST", STAFF, json={"login": "kato"})
    assert status == 201 and (body["full_name"], body["department"]) == ("", "")

    status, body = await api.as_(
        "alice", "PATCH", f"{STAFF}/sato", json={"department": "市民課 窓口係"}
    )
    assert status == 200, body
    assert (body["full_name"], body["department"], body["disabled"]) == (
        "佐藤 一郎",
        "市民課 窓口係",
        False,
    )
    status, body = await api.as_(
        "alice", "PATCH", f"{STAFF}/kato", json={"full_name": "加藤 花子", "disabled": True}
    )
    assert status == 200 and body["full_name"] == "加藤 花子" and body["disabled"]

    status, body = await api.as_("alice", "GET", STAFF)
    shown = {u["login"]: (u["full_name"], u["department"]) for u in body["staff"]}
    assert shown["sato"] == ("佐藤 一郎", "市民課 窓口係")
    assert shown["kato"] == ("加藤 花子", "")
    status, body = await api.as_("alice", "GET", f"{STAFF}/sato")
    assert body["department"] == "市民課 窓口係"

    records = [r for r in api.relay.directory.list_audit(tenant=TENANT)]
    named = [r for r in records if r.event == "admin.staff_names"]
    assert [(r.user, r.detail["fields"]) for r in named] == [
        ("sato", ["department"]),
        ("kato", ["full_name"]),
    ]
    assert "市民課" not in str([r.detail for r in named])  # the values stay out of the log
    assert "admin.staff_disable" in [r.event for r in records]


@pytest.mark.parametrize(
    "body",
    [
        {"full_name": "x" * (MAX_FULL_NAME_LEN + 1)},
        {"department": "x" * (MAX_DEPARTMENT_LEN + 1)},
        {"full_name": "佐藤\t一郎"},
        {"department": "税務課\u202e"},
        {"full_name": 5},
        {},
        {"nickname": "x"},
    ],
)
async def test_bad_names_change_nothing(api, body):
    api.relay.directory.add_user(TENANT, "sato", full_name="佐藤 一郎")
    before = snapshot(api)
    status, answer = await api.as_("alice", "PATCH", f"{STAFF}/sato", json=body)
    assert status == 400, answer
    if body:  # adding with no names at all is fine
        status, answer = await api.as_("alice", "POST", STAFF, json={"login": "kato", **body})
        assert status == 400, answer
    assert snapshot(api) == before


async def test_names_of_someone_unknown_or_in_another_tenant(api):
    status, answer = await api.as_("bob", "PATCH", f"{STAFF}/nobody", json={"full_name": "x"})
    assert status == 404, answer
    status, answer = await api.as_("alice", "PATCH", f"{STAFF}/nobody", json={"full_name": "x"})
    assert status == 404 and answer["code"] == "no_such_staff"
