"""``telework-relay manage admin add``: the first operator and each tenant's first admin."""

from __future__ import annotations

import json
import time

import pyotp

from relay.manage import main as manage
from relay.store.admin_tokens import AdminToken
from relay.store.directory import Directory


def test_admin_add_prints_password_and_totp_that_sign_in(tmp_path, capsys):
    with Directory.open(tmp_path) as directory:
        directory.add_tenant("example-city")
    assert (
        manage(["--data-dir", str(tmp_path), "--json", "admin", "add", "--operator", "root"]) == 0
    )
    operator = json.loads(capsys.readouterr().out)
    assert operator["role"] == "operator" and operator["tenant"] is None
    assert operator["otpauth_uri"].startswith("otpauth://totp/")
    args = [
        "--data-dir",
        str(tmp_path),
        "--json",
        "admin",
        "add",
        "--tenant",
        "example-city",
        "alice",
    ]
    assert manage(args) == 0
    alice = json.loads(capsys.readouterr().out)
    assert alice["role"] == "tenant_admin" and alice["tenant"] == "example-city"
    assert manage(args) == 2  # already exists
    assert "already exists" in capsys.readouterr().err
    with Directory.open(tmp_path) as directory:
        now = time.time()
        code = pyotp.TOTP(alice["totp_secret"]).at(now)
        admin = directory.authenticate_admin("alice", alice["password"], code, now)
        assert admin is not None and admin.tenant == "example-city"
        # The same TOTP step cannot sign in twice, and a wrong password never.
        assert directory.authenticate_admin("alice", alice["password"], code, now) is None
        later = now + 30
        wrong = directory.authenticate_admin(
            "alice", "nope", pyotp.TOTP(alice["totp_secret"]).at(later), later
        )
        assert wrong is None
        records = directory.list_audit(event="manage.admin_add")
        assert len(records) == 2
        assert alice["password"] not in json.dumps([r.detail for r in records])


def run(tmp_path, capsys, *args: str) -> tuple[int, dict | str]:
    """``manage --json args``: its status and its JSON answer (or its error line)."""
    status = manage(["--data-dir", str(tmp_path), "--json", *args])
    out, err = capsys.readouterr()
    return status, json.loads(out) if status == 0 else err


def test_admin_lifecycle_from_the_command_line(tmp_path, capsys):
    with Directory.open(tmp_path) as directory:
        directory.add_tenant("example-city")
        directory.add_admin("root", None)
        directory.add_admin_token(
            "a" * 64, AdminToken("amy", "example-city", 2e9), max_tokens=9, now=1
        )
    status, amy = run(
        tmp_path, capsys, "admin", "add", "--tenant", "example-city", "--role", "auditor", "amy"
    )
    assert status == 0 and amy["role"] == "auditor"
    with Directory.open(tmp_path) as directory:
        directory.add_admin_token(
            "b" * 64, AdminToken("amy", "example-city", 2e9), max_tokens=9, now=1
        )
    status, listed = run(tmp_path, capsys, "admin", "list", "--tenant", "example-city")
    assert [(a["login"], a["role"]) for a in listed["admins"]] == [("amy", "auditor")]

    # The token kept before amy was added (an earlier admin of that login's) went with it.
    status, ended = run(tmp_path, capsys, "admin", "sign-out", "amy")
    assert status == 0 and ended["sign_ins_ended"] == 1
    status, answer = run(tmp_path, capsys, "admin", "reset-password", "amy")
    assert status == 0 and len(answer["password"]) >= 20
    status, answer = run(tmp_path, capsys, "admin", "reset-totp", "amy")
    assert status == 0 and answer["otpauth_uri"].startswith("otpauth://totp/")
    with Directory.open(tmp_path) as directory:
        now = time.time()
        code = pyotp.TOTP(answer["totp_secret"]).at(now)
        assert directory.authenticate_admin("amy", amy["password"], code, now) is None
    status, answer = run(tmp_path, capsys, "admin", "role", "amy", "helpdesk")
    assert status == 0 and answer["role"] == "helpdesk"
    assert run(tmp_path, capsys, "admin", "disable", "amy")[0] == 0
    assert run(tmp_path, capsys, "admin", "enable", "amy")[0] == 0
    assert run(tmp_path, capsys, "admin", "delete", "amy")[0] == 0
    status, error = run(tmp_path, capsys, "admin", "delete", "amy")
    assert status == 2 and "no such admin" in error

    with Directory.open(tmp_path) as directory:
        events = [r.event for r in directory.list_audit(limit=100)]
        details = json.dumps([r.detail for r in directory.list_audit(limit=100)])
    for event in ("sign_out", "password_reset", "totp_reset", "role", "disable", "enable"):
        assert f"manage.admin_{event}" in events
    assert answer.get("totp_secret", "-") not in details


def test_the_last_operator_is_neither_disabled_nor_deleted(tmp_path, capsys):
    with Directory.open(tmp_path) as directory:
        directory.add_admin("root", None)
    for action in ("disable", "delete"):
        status, error = run(tmp_path, capsys, "admin", action, "root")
        assert status == 2 and "last enabled operator" in error
    # With a second operator, one may go; then the other is the last again.
    assert run(tmp_path, capsys, "admin", "add", "--operator", "ops2")[0] == 0
    assert run(tmp_path, capsys, "admin", "disable", "root")[0] == 0
    status, error = run(tmp_path, capsys, "admin", "delete", "ops2")
    assert status == 2 and "last enabled operator" in error
    with Directory.open(tmp_path) as directory:
        assert [(a.login, a.disabled) for a in directory.list_admins()] == [
            ("ops2", False),
            ("root", True),
        ]
        refused = directory.list_audit(event="manage.refused", limit=10)
        assert len(refused) == 3


def test_an_operator_role_goes_with_no_tenant(tmp_path, capsys):
    with Directory.open(tmp_path) as directory:
        directory.add_tenant("example-city")
        directory.add_admin("root", None)
    status, error = run(tmp_path, capsys, "admin", "role", "root", "auditor")
    assert status == 2 and "operator" in error
    status, error = run(tmp_path, capsys, "admin", "add", "--operator", "--role", "auditor", "x")
    assert status == 2 and "--tenant" in error
    with Directory.open(tmp_path) as directory:
        assert directory.get_admin("x") is None
