"""The Debian packages on this machine: install, run, upgrade, purge.

They change the system (a system user, /opt/telework, /etc/telework, systemd links), so they
run only as root and only when asked (``TELEWORK_PACKAGE_TESTS``, set by ``.ci/run`` on CI's
throwaway machine), and never over an installation of ours that was already there. Each test
purges what it installed, also when it fails; what a killed run left, the next run purges (see
``purge_what_an_interrupted_run_left``). Two runs on one machine take turns.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from installers.build import project_version
from installers.linux.debs import architecture, build_package
from relay.cli import parse_startup
from relay.store import migrate
from tests.e2e.rig import Process, wait_for
from tests.packaging.conftest import DIST, need

pytestmark = pytest.mark.slow

PACKAGE_TESTS_ENV = "TELEWORK_PACKAGE_TESTS"
DATA_DIR = Path("/var/lib/telework/relay")
FINGERPRINT = "ab" * 32
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
# Held for the whole of a test, so that two runs on one machine take turns.
LOCK_PATH = Path("/run/lock/telework-package-tests.lock")
# Written before a test installs, removed after it purged: the packages it is answerable for.
CLAIM_PATH = Path("/var/lib/telework-package-tests.claim")


@pytest.fixture(autouse=True)
def _may_change_this_machine() -> Iterator[None]:
    if not os.environ.get(PACKAGE_TESTS_ENV):
        pytest.skip(f"installs packages on this machine: set {PACKAGE_TESTS_ENV}=1 (CI does)")
    if os.geteuid() != 0 or shutil.which("dpkg") is None or shutil.which("apt-get") is None:
        pytest.skip("needs root and dpkg/apt-get")
    with one_test_at_a_time():
        purge_what_an_interrupted_run_left()
        yield


def deb(name: str) -> Path:
    path = DIST / f"{name}_{project_version()}_{architecture()}.deb"
    need([path], f"./run package --apps {name}")
    return path


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(argv), capture_output=True, text=True, env=APT_ENV, timeout=300, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def installed_version(package: str) -> str | None:
    result = run("dpkg-query", "-W", "-f=${Status} ${Version}", package, check=False)
    if result.returncode != 0 or not result.stdout.startswith("install ok installed"):
        return None
    return result.stdout.split()[-1]


def known(package: str) -> bool:
    """Installed, or removed with its configuration still there."""
    result = run("dpkg-query", "-W", "-f=${db:Status-Status}", package, check=False)
    return result.returncode == 0 and result.stdout not in ("", "not-installed")


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def one_test_at_a_time() -> Iterator[None]:
    """Two runs of these tests on one machine (a CI run beside a person's) would purge each
    other's packages mid-test: the second waits for the first. Closing the file (or the
    process dying) releases the lock."""
    with open(LOCK_PATH, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def purge(packages: list[str]) -> None:
    for package in packages:
        if known(package):
            run("apt-get", "purge", "-y", "-q", package, check=False)


def purge_what_an_interrupted_run_left() -> None:
    """A run killed mid-test (its session ended, CI's time ran out) leaves its packages
    installed, with the claim it wrote before installing: those, and only those, are ours to
    purge. An installation without our claim is someone's and stays untouched."""
    if not CLAIM_PATH.exists():
        return
    run("dpkg", "--configure", "-a", check=False)
    purge(CLAIM_PATH.read_text(encoding="utf-8").split())
    CLAIM_PATH.unlink()


@contextlib.contextmanager
def purged_afterwards(*packages: str) -> Iterator[None]:
    for package in packages:
        if known(package):
            pytest.fail(f"{package} is already on this machine, not installed by these tests")
    CLAIM_PATH.write_text("\n".join(packages) + "\n", encoding="utf-8")
    try:
        yield
    finally:
        purge(list(packages))
        CLAIM_PATH.unlink(missing_ok=True)


def relay_files_gone() -> list[str]:
    """What is left of telework-relay after a purge (empty when the system is clean)."""
    left = [
        str(p)
        for p in (
            Path("/opt/telework"),
            Path("/usr/bin/telework-relay"),
            Path("/var/lib/telework"),
            Path("/etc/default/telework-relay"),
            Path("/lib/systemd/system/telework-relay.service"),
            Path("/etc/systemd/system/multi-user.target.wants/telework-relay.service"),
            Path("/var/lib/systemd/deb-systemd-helper-enabled/telework-relay.service.dsh-also"),
        )
        if p.exists() or p.is_symlink()
    ]
    left += [f"user {n}" for n in ("telework",) if user_exists(n)]
    left += [f"group {n}" for n in ("telework",) if group_exists(n)]
    return left


def start_relay(work: Path) -> tuple[Process, str]:
    """``telework-relay serve`` as root on loopback: the command drops to the telework user."""
    log = work / "relay.log"
    process = Process(
        ["telework-relay", "serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"],
        log,
        APT_ENV,
    )

    def started() -> str | None:
        if not process.alive():
            raise AssertionError(f"the relay exited:\n{process.tail()}")
        startup = parse_startup(log.read_text(encoding="utf-8", errors="replace"))
        return startup.fingerprint if startup else None

    return process, wait_for(started, 60, "the packaged relay to listen", process.tail)


def manage(*args: str) -> Any:
    return json.loads(run("telework-relay", "manage", "--json", *args).stdout)


def store_revision() -> str | None:
    engine = sa.create_engine(f"sqlite:///{DATA_DIR / 'directory.sqlite3'}")
    try:
        with engine.connect() as connection:
            return migrate.current_revision(connection)
    finally:
        engine.dispose()


def downgrade_store(revision: str) -> None:
    """Put the store back to an older schema, as an older relay version left it."""
    from alembic import command

    engine = sa.create_engine(f"sqlite:///{DATA_DIR / 'directory.sqlite3'}")
    try:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), revision)
    finally:
        engine.dispose()
    telework = pwd.getpwnam("telework")
    for path in DATA_DIR.iterdir():
        os.chown(path, telework.pw_uid, telework.pw_gid)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    return head


@pytest.mark.timeout(600)
def test_relay_package_installs_runs_upgrades_with_its_data_and_purges_clean(tmp_path):
    package = deb("telework-relay")
    assert not relay_files_gone(), "a telework user or files are already here"
    with purged_afterwards("telework-relay"):
        installed = run("apt-get", "install", "-y", "-q", str(package))
        assert "certificate fingerprint (SHA-256):" in installed.stdout

        # What the package set up: a system user, the data directory 0700, the command, the
        # unit (enabled), HAProxy and PostgreSQL suggested.
        telework = pwd.getpwnam("telework")
        assert telework.pw_uid < 1000 and telework.pw_shell.endswith("nologin")
        mode = DATA_DIR.stat()
        assert stat.S_IMODE(mode.st_mode) == 0o700 and mode.st_uid == telework.pw_uid
        assert shutil.which("telework-relay") == "/usr/bin/telework-relay"
        assert Path("/lib/systemd/system/telework-relay.service").is_file()
        if shutil.which("deb-systemd-helper"):
            assert Path(
                "/etc/systemd/system/multi-user.target.wants/telework-relay.service"
            ).is_symlink()
        control = run("dpkg-query", "-W", "-f=${Suggests}", "telework-relay").stdout
        assert "haproxy" in control and "postgresql" in control

        # It runs (as the telework user), and manage prints the fingerprint it serves with.
        relay, served = start_relay(tmp_path)
        try:
            uid = os.stat(f"/proc/{relay.pid}").st_uid
            assert uid == telework.pw_uid
            assert manage("fingerprint")["fingerprint"] == served
            manage("tenant", "add", "pkg-city")
        finally:
            relay.stop()
        owners = {p.stat().st_uid for p in DATA_DIR.iterdir()}
        assert owners == {telework.pw_uid}, "root left files in the data directory"

        # Upgrade to a rebuilt package of a newer version, over a store an older relay left:
        # the data stays, the store is migrated, the certificate is the same.
        downgrade_store("0001")
        assert store_revision() == "0001"
        newer = f"{project_version()}+1"
        bumped = build_package(
            "telework-relay", DIST / "telework-relay", newer, tmp_path, tmp_path / "deb", "none"
        )
        run("apt-get", "install", "-y", "-q", str(bumped))
        assert installed_version("telework-relay") == newer
        assert store_revision() == head_revision()
        assert manage("fingerprint")["fingerprint"] == served
        records = manage("audit", "--limit", "500")["records"]
        assert any(r["event"] == "manage.tenant_add" for r in records)
        refused = run("telework-relay", "manage", "tenant", "add", "pkg-city", check=False)
        assert refused.returncode != 0  # the tenant is still there

        # Removing keeps the data; purging leaves nothing behind.
        run("apt-get", "remove", "-y", "-q", "telework-relay")
        assert (DATA_DIR / "relay.key").is_file()
        run("apt-get", "purge", "-y", "-q", "telework-relay")
        assert installed_version("telework-relay") is None
        assert relay_files_gone() == []


@pytest.mark.timeout(600)
def test_viewer_and_host_packages_take_a_preseeded_preset_and_purge_clean(tmp_path):
    viewer, host = deb("telework-viewer"), deb("telework-host")
    assert not Path("/etc/telework").exists(), "/etc/telework is already here, not ours"
    selections = "".join(
        f"{package} {package}/{key} string {value}\n"
        for package in ("telework-viewer", "telework-host")
        for key, value in (
            ("relay", "relay.example.lg.jp:8443"),
            ("fingerprint", FINGERPRINT.upper()),
            ("tenant", "example-city"),
        )
    )
    subprocess.run(["debconf-set-selections"], input=selections, text=True, check=True)
    with purged_afterwards("telework-viewer", "telework-host"):
        run("apt-get", "install", "-y", "-q", str(viewer), str(host))
        expected = {
            "relay": "relay.example.lg.jp:8443",
            "fingerprint": FINGERPRINT,
            "tenant": "example-city",
        }
        for preset in ("viewer.json", "host.json"):
            path = Path("/etc/telework") / preset
            assert json.loads(path.read_text(encoding="utf-8")) == expected
            assert stat.S_IMODE(path.stat().st_mode) == 0o644

        # The desktop entry, the tray's autostart entry, the headless user unit, the commands.
        assert Path("/usr/share/applications/telework-viewer.desktop").is_file()
        assert Path("/usr/share/icons/hicolor/scalable/apps/telework-viewer.svg").is_file()
        assert Path("/etc/xdg/autostart/telework-host.desktop").is_file()
        assert Path("/usr/lib/systemd/user/telework-host.service").is_file()
        assert "usage: telework-viewer" in run("telework-viewer", "--help").stdout

        status = run("telework-host", "--data-dir", str(tmp_path / "host"), "status", "--json")
        assert json.loads(status.stdout)["state"] == "not_enrolled"

        run("apt-get", "purge", "-y", "-q", "telework-viewer", "telework-host")
        left = [
            p
            for p in ("/etc/telework", "/opt/telework", "/usr/bin/telework-viewer")
            if Path(p).exists()
        ]
        assert left == []
        answers = subprocess.run(
            ["debconf-show", "telework-viewer"], capture_output=True, text=True, check=False
        )
        assert "relay.example" not in answers.stdout
