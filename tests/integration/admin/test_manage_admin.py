"""``telework-relay manage admin add``: the first operator and each tenant's first admin."""

from __future__ import annotations

import json
import time

import pyotp

from relay.manage import main as manage
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
