"""The manage CLI: each action through main(argv), a few through a real subprocess; the main
flows on both SQLite and PostgreSQL (``--database``)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from relay.manage import add_manage_parser, main, run_manage
from relay.store.directory import Directory
from relay.store.staff import OtpResult
from tests.integration.audit_faults import audit_inserts_fail, stored_rows
from tests.integration.relay_harness import database_options

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "relay"
    path.mkdir()
    return path


HOST_ID = "AAAAABBBBBCCCCCDDDDD"


def store_args(data_dir: Path, database: str | None) -> list[str]:
    """``--data-dir`` and, unless the store is the default SQLite file, ``--database``."""
    return ["--data-dir", str(data_dir), *database_options(database)]


def run(
    capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str, database: str | None = None
) -> tuple[int, str, str]:
    status = main([*store_args(data_dir, database), *args])
    out, err = capsys.readouterr()
    return status, out, err


def run_json(
    capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str, database: str | None = None
) -> Any:
    status, out, err = run(capsys, data_dir, "--json", *args, database=database)
    assert (status, err) == (0, "")
    return json.loads(out)


def test_tenant_user_codes_token_grant_flow(
    capsys: pytest.CaptureFixture[str], data_dir: Path, database_url: str | None
) -> None:
    assert (
        run_json(capsys, data_dir, "tenant", "add", "横浜市", database=database_url)["tenant"]
        == "横浜市"
    )
    user = run_json(
        capsys, data_dir, "user", "add", "--tenant", "横浜市", "taro", database=database_url
    )
    assert user["login"] == "taro"
    assert user["otpauth_uri"].startswith("otpauth://totp/Telework:")
    assert f"secret={user['totp_secret']}" in user["otpauth_uri"]
    codes = run_json(
        capsys,
        data_dir,
        "user",
        "codes",
        "--tenant",
        "横浜市",
        "--count",
        "3",
        "taro",
        database=database_url,
    )["codes"]
    assert len(codes) == 3
    token = run_json(
        capsys,
        data_dir,
        "host-token",
        "--tenant",
        "横浜市",
        "--ttl-hours",
        "2",
        database=database_url,
    )
    assert token["expires_at"] == pytest.approx(time.time() + 7200, abs=60)

    with Directory.open(data_dir, database=database_url) as directory:
        now = time.time()
        code = pyotp.TOTP(user["totp_secret"]).at(now)
        assert directory.verify_otp("横浜市", "taro", code, now) is OtpResult.TOTP_OK
        assert directory.verify_otp("横浜市", "taro", codes[0], now) is OtpResult.CODE_OK
        directory.redeem_enrollment_token(token["token"], HOST_ID, "PEM", "PC", "1", now)

    # Admins write host IDs down grouped; the CLI takes that form too.
    granted = run_json(
        capsys,
        data_dir,
        "grant",
        "--tenant",
        "横浜市",
        "taro",
        "aaaaa-BBBBB-CCCCC-DDDDD",
        database=database_url,
    )
    assert granted == {"tenant": "横浜市", "login": "taro", "host_id": HOST_ID, "granted": True}
    with Directory.open(data_dir, database=database_url) as directory:
        assert directory.is_granted("横浜市", "taro", HOST_ID)


def test_every_action_is_audited_without_secrets(
    capsys: pytest.CaptureFixture[str], data_dir: Path, database_url: str | None
) -> None:
    run_json(capsys, data_dir, "tenant", "add", "t", database=database_url)
    user = run_json(capsys, data_dir, "user", "add", "--tenant", "t", "u", database=database_url)
    codes = run_json(
        capsys,
        data_dir,
        "user",
        "codes",
        "--tenant",
        "t",
        "--count",
        "2",
        "u",
        database=database_url,
    )
    token = run_json(capsys, data_dir, "host-token", "--tenant", "t", database=database_url)
    records = run_json(capsys, data_dir, "audit", "--tenant", "t", database=database_url)["records"]
    assert [r["event"] for r in records] == [
        "manage.tenant_add",
        "manage.user_add",
        "manage.user_codes",
        "manage.host_token",
    ]
    assert all(r["source"] == "manage-cli" for r in records)
    dumped = json.dumps(records)
    for secret in (user["totp_secret"], token["token"], *codes["codes"]):
        assert secret not in dumped
    later = run_json(capsys, data_dir, "audit", "--limit", "1", database=database_url)["records"]
    assert [r["event"] for r in later] == ["manage.audit_read"]


def test_text_output(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    assert run(capsys, data_dir, "tenant", "add", "t")[:2] == (0, "tenant t added\n")
    status, out, _ = run(capsys, data_dir, "user", "add", "--tenant", "t", "u")
    assert status == 0 and "TOTP secret: " in out and "otpauth://" in out
    status, out, _ = run(capsys, data_dir, "user", "codes", "--tenant", "t", "--count", "2", "u")
    assert status == 0 and len(out.splitlines()) == 3
    status, out, _ = run(capsys, data_dir, "host-token", "--tenant", "t")
    assert status == 0 and len(out.splitlines()[1]) >= 40
    status, out, _ = run(capsys, data_dir, "audit")
    assert status == 0 and "manage.user_add tenant=t user=u" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tenant", "add", "t"], "already exists"),
        (["tenant", "add", ""], "must not be empty"),
        (["user", "add", "--tenant", "nowhere", "u"], "no tenant 'nowhere'"),
        (["user", "codes", "--tenant", "t", "--count", "99", "u"], "between 1 and"),
        (["user", "codes", "--tenant", "t", "--count", "1", "ghost"], "no user 'ghost'"),
        (["host-token", "--tenant", "t", "--ttl-hours", "0"], "--ttl-hours"),
        (["host-token", "--tenant", "nowhere"], "no tenant"),
        (["grant", "--tenant", "t", "u", "no-such-host"], "a host ID is 20 letters"),
        (
            ["grant", "--tenant", "t", "u", "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"],
            "no host 'ZZZZZZZZZZZZZZZZZZZZ'",
        ),
        (["audit", "--limit", "0"], "limit"),
    ],
)
def test_errors_are_one_line_exit_2_and_change_nothing(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    database_url: str | None,
    args: list[str],
    message: str,
) -> None:
    run_json(capsys, data_dir, "tenant", "add", "t", database=database_url)
    run_json(capsys, data_dir, "user", "add", "--tenant", "t", "u", database=database_url)
    status, out, err = run(capsys, data_dir, *args, database=database_url)
    assert status == 2 and out == ""
    assert err.startswith("telework-relay manage: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    with Directory.open(data_dir, database=database_url) as directory:
        assert [t.name for t in directory.list_tenants()] == ["t"]
        assert [u.login for u in directory.list_users("t")] == ["u"]
        assert directory.list_hosts("t") == []
        refused = directory.list_audit(event="manage.refused")
    assert len(refused) == 1  # the refusal itself is audited


def test_missing_data_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, tmp_path / "typo", "tenant", "add", "t")
    assert status == 2 and "does not exist" in err
    assert not (tmp_path / "typo").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(data_dir), "user", "add", "u"])  # no --tenant
    assert exited.value.code == 2


def test_plugs_into_a_parent_parser(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    parser = argparse.ArgumentParser(prog="telework-relay")
    commands = parser.add_subparsers(dest="command", required=True)
    add_manage_parser(commands)
    args = parser.parse_args(["manage", "--data-dir", str(data_dir), "tenant", "add", "t"])
    assert args.command == "manage"
    assert run_manage(args) == 0
    assert capsys.readouterr().out == "tenant t added\n"


def _subprocess(
    data_dir: Path, *args: str, database: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "relay.manage", *store_args(data_dir, database), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_runs_as_a_module_while_the_relay_holds_the_store(
    data_dir: Path, database_url: str | None
) -> None:
    # the running relay keeps its store open
    with Directory.open(data_dir, database=database_url) as relay_side:
        relay_side.add_tenant("t")
        done = _subprocess(
            data_dir, "--json", "user", "add", "--tenant", "t", "u", database=database_url
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["login"] == "u"
        assert relay_side.get_user("t", "u") is not None
        failed = _subprocess(data_dir, "tenant", "add", "t", database=database_url)
        assert failed.returncode == 2
        assert failed.stderr.strip() == "telework-relay manage: error: tenant 't' already exists"


def test_audit_prints_when_its_own_record_cannot_be_written(
    capsys: pytest.CaptureFixture[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import sqlalchemy as sa

    from relay.store.audit import AuditLog

    assert main(["--data-dir", str(data_dir), "tenant", "add", "city"]) == 0
    capsys.readouterr()

    def disk_full(*_args: Any, **_kwargs: Any) -> None:
        raise sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("disk is full"))

    monkeypatch.setattr(AuditLog, "audit", disk_full)
    assert main(["--data-dir", str(data_dir), "audit"]) == 0
    out, err = capsys.readouterr()
    assert "manage.tenant_add" in out
    assert "not in the audit log" in err


@pytest.mark.parametrize(
    ("args", "event"),
    [
        (["tenant", "add", "new-town"], "manage.tenant_add"),
        (["user", "add", "--tenant", "t", "sato"], "manage.user_add"),
        (["user", "codes", "--tenant", "t", "--count", "2", "u"], "manage.user_codes"),
        (["host-token", "--tenant", "t"], "manage.host_token"),
        (["grant", "--tenant", "t", "u", HOST_ID], "manage.grant"),
        (["admin", "add", "--tenant", "t", "kanri"], "manage.admin_add"),
    ],
)
def test_a_change_whose_record_cannot_be_written_is_not_made(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    database_url: str | None,
    args: list[str],
    event: str,
) -> None:
    run_json(capsys, data_dir, "tenant", "add", "t", database=database_url)
    run_json(capsys, data_dir, "user", "add", "--tenant", "t", "u", database=database_url)
    with Directory.open(data_dir, database=database_url) as directory:
        token = directory.issue_enrollment_token("t", 600, time.time())
        directory.redeem_enrollment_token(token, HOST_ID, "PEM", "PC", "1", time.time())
        before, records = stored_rows(directory), len(directory.list_audit())
    with audit_inserts_fail(event) as refused:
        status, out, err = run(capsys, data_dir, *args, database=database_url)
    assert refused and status == 2 and out == ""
    assert "database error" in err and "disk is full" in err
    with Directory.open(data_dir, database=database_url) as directory:
        assert stored_rows(directory) == before
        assert len(directory.list_audit()) == records
    run_json(capsys, data_dir, *args, database=database_url)  # tried again: made, recorded once
    with Directory.open(data_dir, database=database_url) as directory:
        assert [r.event for r in directory.list_audit()][records:] == [event]
