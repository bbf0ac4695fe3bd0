"""An admin changes their own password through the admin API: the current one is required (a
wrong one counts towards the lockout like a failed sign-in), the new one follows the rules of
core.auth.passwords, the change is audited, and the admin's other sign-ins end."""

from __future__ import annotations

import pytest

from core.auth.lockout import USER_MAX_FAILURES
from core.auth.passwords import MIN_CHOSEN_PASSWORD_CHARS

PASSWORD = "/api/v1/password"
NEW = "hosoku-kaisei-2026"


async def second_sign_in(api, login: str) -> str:
    """Another sign-in of ``login`` (a TOTP step later), as from a second console."""
    api.clock.advance(30)
    first = api.tokens[login]
    second = await api.sign_in(login)
    api.tokens[login] = first
    return second


async def test_change_own_password_ends_other_sign_ins(api):
    await api.sign_in("alice")
    other = await second_sign_in(api, "alice")
    old = api.account("alice").password
    status, body = await api.as_(
        "alice", "POST", PASSWORD, json={"current_password": old, "new_password": NEW}
    )
    assert status == 200, body
    assert body == {"sign_ins_ended": 1}
    status, _ = await api.request("GET", "/api/v1/me", other)
    assert status == 401  # the other console is signed out
    status, body = await api.as_("alice", "GET", "/api/v1/me")
    assert status == 200 and body["login"] == "alice"  # this one stays

    directory = api.relay.directory
    assert directory.authenticate_admin("alice", old, api.otp("alice"), api.clock()) is None
    api.clock.advance(30)
    assert directory.authenticate_admin("alice", NEW, api.otp("alice"), api.clock()) is not None
    (record,) = [r for r in directory.list_audit() if r.event == "admin.password_change"]
    assert record.detail == {"admin": "alice", "sign_ins_ended": 1}
    assert NEW not in str([r.detail for r in directory.list_audit()])


@pytest.mark.parametrize(
    ("new", "code", "params"),
    [
        ("x" * (MIN_CHOSEN_PASSWORD_CHARS - 1), "password_too_short", {"minimum": 12}),
        ("x" * 257, "field_too_long", {"field": "new_password", "max_length": 256}),
        ("hosoku\tkaisei-2026", "password_not_text", {}),
        (None, "password_unchanged", {}),
        ("", "field_empty", {"field": "new_password"}),
    ],
)
async def test_a_new_password_against_the_rules_changes_nothing(api, new, code, params):
    old = api.account("alice").password
    new = old if new is None else new
    status, body = await api.as_(
        "alice", "POST", PASSWORD, json={"current_password": old, "new_password": new}
    )
    assert (status, body["code"], body["params"]) == (400, code, params)
    api.clock.advance(30)
    assert (
        api.relay.directory.authenticate_admin("alice", old, api.otp("alice"), api.clock())
        is not None
    )


async def test_a_wrong_current_password_is_refused_audited_and_counted(api):
    old = api.account("alice").password
    for _ in range(USER_MAX_FAILURES - 1):
        status, body = await api.as_(
            "alice", "POST", PASSWORD, json={"current_password": "guess-guess", "new_password": NEW}
        )
        assert (status, body["code"]) == (403, "password_wrong")
    status, body = await api.as_(
        "alice", "POST", PASSWORD, json={"current_password": "guess-guess", "new_password": NEW}
    )
    assert (status, body["code"]) == (429, "locked_out")
    # Locked: even the right password waits, and signing in does too.
    status, body = await api.as_(
        "alice", "POST", PASSWORD, json={"current_password": old, "new_password": NEW}
    )
    assert status == 429
    refused = [r for r in api.relay.directory.list_audit() if r.event.endswith("refused")]
    assert [r.event for r in refused] == ["admin.password_change_refused"] * USER_MAX_FAILURES
    api.clock.advance(30)
    directory = api.relay.directory
    assert directory.authenticate_admin("alice", old, api.otp("alice"), api.clock()) is not None


async def test_signed_out_cannot_change_a_password(api):
    status, body = await api.request(
        "POST", PASSWORD, json={"current_password": "a", "new_password": NEW}
    )
    assert (status, body["code"]) == (401, "sign_in_required")
