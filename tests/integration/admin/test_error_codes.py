"""The admin API's error bodies carry a stable code and its params beside the English message
(what the console translates), for its own refusals, the schema's, the store's and aiohttp's."""

from __future__ import annotations

from core.auth.lockout import MAX_TENANT_LOCKOUT_FAILURES
from core.policy import MAX_IDLE_TIMEOUT_S, MIN_IDLE_TIMEOUT_S
from relay.admin.errors import ErrorCode
from relay.admin.openapi import openapi
from tests.integration.admin.conftest import TENANT, USER, Api, tenant_path


async def test_a_wrong_sign_in_and_a_lockout_have_codes(api: Api):
    wrong = {"login": "alice", "password": "wrong", "otp": api.otp("alice")}
    status, body = await api.request("POST", "/api/v1/login", json=wrong)
    assert status == 401
    assert body == {
        "error": "wrong login, password or one-time password",
        "code": "sign_in_failed",
        "params": {},
    }
    for _ in range(5):
        status, body = await api.request("POST", "/api/v1/login", json=wrong)
    assert status == 429 and body["code"] == "locked_out"
    assert body["params"]["retry_after_s"] > 0 and "try again later" in body["error"]


async def test_body_refusals_name_the_field_and_its_bounds(api: Api):
    status, body = await api.as_("alice", "POST", tenant_path(TENANT, "/staff"), json={"login": ""})
    assert status == 400 and body["code"] == "field_empty"
    assert body["params"] == {"field": "login"} and "'login' must not be empty" in body["error"]

    policy = tenant_path(TENANT, "/policy")
    status, body = await api.as_("alice", "PUT", policy, json={"idle_timeout_s": 10})
    assert status == 400 and body["code"] == "field_too_small"
    assert body["params"] == {"field": "idle_timeout_s", "minimum": MIN_IDLE_TIMEOUT_S}
    status, body = await api.as_("alice", "PUT", policy, json={"idle_timeout_s": 10**6})
    assert body["code"] == "field_too_large"
    assert body["params"] == {"field": "idle_timeout_s", "maximum": MAX_IDLE_TIMEOUT_S}
    status, body = await api.as_("alice", "PUT", policy, json={"watermark": "yes"})
    assert status == 400 and body["code"] == "field_wrong_type"
    assert body["params"] == {"field": "watermark"}
    status, body = await api.as_("alice", "PUT", policy, json={"lockout_failures": 11})
    assert body["code"] == "field_too_large"
    assert body["params"] == {"field": "lockout_failures", "maximum": MAX_TENANT_LOCKOUT_FAILURES}

    status, body = await api.as_(
        "alice", "POST", tenant_path(TENANT, f"/staff/{USER}/codes"), json={"count": 99}
    )
    assert status == 400 and body["code"] == "field_too_large"
    assert body["params"]["field"] == "count"

    status, body = await api.as_("alice", "POST", tenant_path(TENANT, "/staff"), json={})
    assert body["code"] == "field_missing" and body["params"] == {"field": "login"}


async def test_query_refusals_name_the_parameter(api: Api):
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/audit?limit=abc"))
    assert status == 400 and body["code"] == "field_wrong_type"
    assert body["params"] == {"field": "limit"}
    status, body = await api.as_("alice", "GET", tenant_path(TENANT, "/audit?bogus=1"))
    assert body["code"] == "field_not_allowed" and body["params"] == {"field": "bogus"}


async def test_what_a_request_names_and_the_stores_refusals_have_codes(api: Api):
    status, body = await api.as_("alice", "DELETE", tenant_path(TENANT, "/staff/nobody"))
    assert status == 404 and body["code"] == "no_such_staff"
    status, body = await api.as_("alice", "DELETE", tenant_path(TENANT, "/sessions/nothing"))
    assert status == 404 and body["code"] == "no_such_session"
    status, body = await api.as_("alice", "GET", tenant_path("nowhere", "/staff"))
    assert status == 404 and body["code"] == "no_such_tenant"
    # The store's own refusals keep their message and get the code of their kind.
    status, body = await api.as_(
        "alice", "POST", tenant_path(TENANT, "/staff"), json={"login": USER}
    )
    assert status == 409 and body["code"] == "already_exists" and USER in body["error"]
    status, body = await api.as_(
        "alice", "POST", tenant_path(TENANT, "/staff"), json={"login": " padded "}
    )
    assert status == 400 and body["code"] == "invalid_input" and "spaces" in body["error"]
    status, body = await api.as_(
        "alice", "PUT", tenant_path(TENANT, "/policy"), json={"shutdown_at": "25:99"}
    )
    assert status == 400 and body["code"] == "invalid_input" and "HH:MM" in body["error"]


async def test_sign_in_and_aiohttp_refusals_have_codes(api: Api):
    status, body = await api.request("GET", "/api/v1/me", "not-a-token")
    assert status == 401 and body["code"] == "sign_in_not_valid"
    status, body = await api.request("GET", "/api/v1/me")
    assert status == 401 and body["code"] == "sign_in_required"
    status, body = await api.request("GET", "/api/v1/nothing")
    assert status == 404 and body["code"] == "no_such_route"
    status, body = await api.request("PUT", "/api/v1/me")
    assert status == 405 and body["code"] == "method_not_allowed"
    assert body["params"] == {"status": 405}
    status, body = await api.as_("alice", "POST", "/api/v1/tenants", json={"name": "x"})
    assert status == 403 and body["code"] == "operator_only"


def test_the_openapi_description_lists_every_code():
    error = openapi()["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "code", "params"]
    assert error["properties"]["code"]["enum"] == [code.value for code in ErrorCode]
