"""``telework-ctl`` against the real admin API: sign in (token kept 0600), commands mirroring
the API with JSON out, CSV out, API errors on stderr with exit status 1."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest

from relay import ctl
from tests.integration.admin.conftest import TENANT, USER, Api


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in (ctl.ENV_URL, ctl.ENV_FINGERPRINT, ctl.ENV_TOKEN):
        monkeypatch.delenv(name, raising=False)
    return home


async def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(ctl.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_ctl_login_then_commands(api: Api, config_home, capsys, monkeypatch):
    account = api.account("alice")
    monkeypatch.setenv(ctl.ENV_PASSWORD, account.password)
    code, out, _ = await run(
        capsys,
        "--url",
        api.base,
        "--fingerprint",
        api.relay.server.fingerprint,
        "login",
        "alice",
        "--otp",
        api.otp("alice"),
    )
    assert code == 0, out
    answer = json.loads(out)
    assert answer["role"] == "tenant_admin" and "token" not in answer
    credentials = config_home / "telework" / ctl.CREDENTIALS_FILE
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600

    code, out, _ = await run(capsys, "add-staff", "--tenant", TENANT, "--login", "sato")
    assert code == 0 and json.loads(out)["otpauth_uri"].startswith("otpauth://")
    code, out, _ = await run(capsys, "list-staff", "--tenant", TENANT)
    assert [u["login"] for u in json.loads(out)["staff"]] == ["sato", USER]
    code, out, _ = await run(
        capsys, "issue-codes", "--tenant", TENANT, "--login", "sato", "--count", "2"
    )
    assert len(json.loads(out)["codes"]) == 2
    code, out, _ = await run(
        capsys, "put-tenant-policy", "--tenant", TENANT, "--body", '{"idle_timeout_s": 600}'
    )
    assert code == 0 and api.relay.directory.get_tenant_policy(TENANT)["idle_timeout_s"] == 600
    code, out, _ = await run(capsys, "audit", "--tenant", TENANT, "--format", "csv")
    assert code == 0 and out.startswith("id,time,event")

    code, out, err = await run(
        capsys, "issue-codes", "--tenant", TENANT, "--login", "sato", "--count", "99"
    )
    assert code == ctl.EXIT_API_ERROR and json.loads(err)["status"] == 400
    code, out, err = await run(capsys, "list-staff", "--tenant", "other-town")
    assert code == ctl.EXIT_API_ERROR and json.loads(err) == {
        "status": 404,
        "error": "no such tenant",
    }

    code, out, _ = await run(capsys, "logout")
    assert code == 0
    code, out, err = await run(capsys, "list-staff", "--tenant", TENANT)
    assert code == ctl.EXIT_USAGE and "sign in first" in err


async def test_ctl_refuses_a_wrong_fingerprint_before_sending_anything(
    api: Api, config_home, capsys, monkeypatch
):
    monkeypatch.setenv(ctl.ENV_PASSWORD, api.account("alice").password)
    code, _, err = await run(
        capsys, "--url", api.base, "--fingerprint", "ab" * 32, "login", "alice", "--otp", "123456"
    )
    assert code == ctl.EXIT_USAGE and "pinned" in err
    assert api.relay.directory.list_audit(event="admin.login_refused") == []


async def test_ctl_lists_every_api_command(capsys):
    code = ctl.main(["commands"])
    out = capsys.readouterr().out
    assert code == 0 and "list-staff" in out and "set-limits" in out
