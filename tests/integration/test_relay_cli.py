"""``telework-relay serve`` as a real process: what it prints, metrics, crash-safe audit (on
SQLite and PostgreSQL), refusals at start-up."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pyotp
import pytest

from core.crypto.certs import generate_identity
from core.protocol.control import Login
from relay.cli import parse_startup
from relay.store.directory import Directory
from tests.integration.relay_harness import TENANT, USER, database_options
from transport.client import RefusedByRelay, viewer_login
from transport.connect import RelayEndpoint

STARTUP_TIMEOUT_S = 30


def serve_command(data_dir: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "relay.cli", "serve", "--data-dir", str(data_dir), *options]


class RelayProcess:
    def __init__(
        self, data_dir: Path, database: str | None = None, loop: str | None = None
    ) -> None:
        self.process = subprocess.Popen(
            serve_command(
                data_dir,
                *database_options(database),
                *(["--loop", loop] if loop else []),
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        printed = ""
        assert self.process.stdout is not None
        while (started := parse_startup(printed)) is None:
            line = self.process.stdout.readline()
            assert line, f"the relay stopped: {printed}"
            printed += line
        assert started.host == "127.0.0.1"
        self.port, self.fingerprint, self.metrics_url = (
            started.port,
            started.fingerprint,
            started.metrics_url,
        )

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        """Signal the relay; return its exit status and what it printed after start-up."""
        self.process.send_signal(sig)
        rest, _ = self.process.communicate(timeout=STARTUP_TIMEOUT_S)
        return self.process.returncode, rest


@pytest.fixture
def data_dir(tmp_path):
    with Directory.open(tmp_path) as directory:
        directory.add_tenant(TENANT)
    return tmp_path


def manage(data_dir: Path, *args: str, database: str | None = None) -> str:
    return subprocess.run(
        [
            sys.executable,
            *("-m", "relay.cli", "manage", "--data-dir", str(data_dir)),
            *database_options(database),
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_serve_prints_address_and_the_fingerprint_manage_reports(data_dir, loop):
    relay = RelayProcess(data_dir, loop=loop)
    try:
        assert relay.fingerprint == manage(data_dir, "fingerprint")
        assert (data_dir / "relay.key").stat().st_mode & 0o777 == 0o600
        metrics = urllib.request.urlopen(relay.metrics_url, timeout=5).read().decode()
        assert "telework_live_sessions 0" in metrics and "telework_hosts_online 0" in metrics
    finally:
        code, printed = relay.stop()
    assert code == 0 and "relay stopping" in printed  # Ctrl+C stops it cleanly


@pytest.fixture
def shared_store(tmp_path, database_url):
    """A data directory and the database beside it (SQLite in it, or PostgreSQL), with a tenant."""
    with Directory.open(tmp_path, database=database_url) as directory:
        directory.add_tenant(TENANT)
    return tmp_path, database_url


def test_audit_survives_a_crash(shared_store):
    data_dir, database = shared_store
    added = manage(data_dir, "--json", "user", "add", "--tenant", TENANT, USER, database=database)
    secret = json.loads(added)["totp_secret"]
    relay = RelayProcess(data_dir, database)
    try:
        endpoint = RelayEndpoint("127.0.0.1", relay.port, fingerprint=relay.fingerprint)
        device = generate_identity("home-pc")
        wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
        message = Login(TENANT, USER, wrong, "A" * 20, device.cert_pem.decode(), [])
        with pytest.raises(RefusedByRelay, match="wrong_otp"):
            asyncio.run(viewer_login(endpoint, message, device))
    finally:
        relay.stop(signal.SIGKILL)  # no shutdown, no flush: a crash
    with Directory.open(data_dir, database=database) as directory:
        refused = directory.list_audit(event="login_refused")
    assert refused and refused[-1].detail["reason"] == "wrong"


def test_a_port_in_use_or_a_bad_log_level_is_one_line_and_exit_2(data_dir):
    relay = RelayProcess(data_dir)
    try:
        taken = subprocess.run(
            serve_command(
                data_dir, "--listen", f"127.0.0.1:{relay.port}", "--metrics-listen", "127.0.0.1:0"
            ),
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT_S,
        )
    finally:
        relay.stop()
    assert taken.returncode == 2
    last_line = taken.stderr.strip().splitlines()[-1]
    assert last_line.startswith("telework-relay serve: error:") and "in use" in last_line
    assert "Traceback" not in taken.stderr
    level = subprocess.run(
        serve_command(data_dir, "--log-level", "x"),
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
    )
    assert level.returncode == 2 and "Traceback" not in level.stderr


@pytest.mark.parametrize(
    ("database", "said"),
    [
        ("postgresql://telework:s3cret@/telework?host=/nonexistent", "directory database"),
        ("mysql://telework:s3cret@db/telework", "unsupported database 'mysql'"),
    ],
)
def test_a_database_it_cannot_use_is_one_line_and_exit_2(tmp_path, database, said):
    refused = subprocess.run(
        serve_command(tmp_path, "--database", database, "--listen", "127.0.0.1:0"),
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
    )
    assert refused.returncode == 2 and said in refused.stderr
    assert "Traceback" not in refused.stderr and "s3cret" not in refused.stderr
