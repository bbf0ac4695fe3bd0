"""``telework-demo``: the whole system on one machine, for a first look.

Brings up a relay with the embedded store, a demo municipality with an admin and a staff user,
an office PC (the host agent, on a private virtual screen showing a small office desktop)
enrolled and granted, and — where this machine has a display — opens the viewer pre-filled and
the admin console. Prints the staff user's TOTP secret and a fresh code every 30 s. Ctrl+C
stops everything it started, and nothing is left running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

from apps.common.xvfb import VirtualDisplay, read_line, start_xvfb
from apps.viewer.settings import mac_addresses
from core.errors import Error

TENANT = "demo-city"
STAFF = "tanaka"
ADMIN = "admin"
HOST_NAME = "DEMO-PC-01"
# The host agent must enrol and reach the relay within this time, or the demo gives up.
HOST_READY_TIMEOUT_S = 60.0
RELAY_READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
OTP_PRINT_INTERVAL_S = 30


class DemoError(Error):
    """The demo could not start; the message says what to do."""


@dataclass
class Demo:
    data_dir: Path
    python: str = sys.executable
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    displays: list[VirtualDisplay] = field(default_factory=list)
    log_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_dir = self.data_dir / "logs"

    # -- processes -------------------------------------------------------------------------

    def spawn(
        self,
        name: str,
        args: list[str],
        env: dict[str, str] | None = None,
        stdout: int | None = None,
    ) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        process = subprocess.Popen(
            [self.python, "-m", *args],
            stdout=stdout if stdout is not None else log,
            stderr=log,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        log.close()
        self.children.append(process)
        return process

    def manage(self, *args: str) -> dict[str, object]:
        result = subprocess.run(
            [
                self.python,
                "-m",
                "relay.cli",
                "manage",
                "--data-dir",
                str(self.data_dir / "relay"),
                "--json",
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DemoError(f"relay manage {' '.join(args[:2])}: {result.stderr.strip()}")
        parsed: dict[str, object] = json.loads(result.stdout)
        return parsed

    def stop(self) -> None:
        for process in reversed(self.children):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        for display in self.displays:
            display.stop()

    # -- the steps -------------------------------------------------------------------------

    def start_relay(self) -> tuple[int, int, str]:
        """Start the relay on ports it picks itself (no race for a "free" port); returns the
        relay port, the admin API port and the fingerprint, read from what it prints."""
        relay = self.spawn(
            "relay",
            [
                "relay.cli",
                "serve",
                "--data-dir",
                str(self.data_dir / "relay"),
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
            ],
            stdout=subprocess.PIPE,
        )
        assert relay.stdout is not None
        deadline = time.monotonic() + RELAY_READY_TIMEOUT_S
        printed = ""
        # apps never import relay: these follow the lines relay/cli.py prints on start-up.
        patterns = (
            r"relay listening on \S+:(\d+) ",
            r"admin API on https://\S+:(\d+) ",
            r"\(SHA-256\): ([0-9a-f]{64})",
        )
        while time.monotonic() < deadline:
            found = [re.search(p, printed) for p in patterns]
            if all(found):
                port, admin_port, fingerprint = (m[1] for m in found if m)
                return int(port), int(admin_port), fingerprint
            # Never blocks past the deadline: a relay that hangs before its banner is reported.
            line = read_line(relay.stdout.fileno(), max(0.0, deadline - time.monotonic()))
            if not line and relay.poll() is not None:
                raise DemoError(f"the relay stopped; see {self.log_dir / 'relay.log'}")
            printed += line
        raise DemoError("the relay did not start in time")

    def run_module(self, argv: list[str], what: str) -> str:
        """Run ``python -m argv`` to completion; its output, or DemoError saying ``what``."""
        done = subprocess.run([self.python, "-m", *argv], check=False, capture_output=True)
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
            raise DemoError(f"{what} failed: {why}")
        return done.stdout.decode(errors="replace").strip()

    def home_pc_code(self) -> str:
        """The code of this PC's viewer key (made now if the viewer never ran here)."""
        return self.run_module(["apps.viewer.main", "--device-code"], "reading the home-PC code")

    def start_host(self, relay: str, fingerprint: str, token: str) -> tuple[str, str]:
        display = start_xvfb(1280, 800)
        self.displays.append(display)
        desktop_env = {"DISPLAY": display.display, "QT_QPA_PLATFORM": "xcb"}
        self.spawn("desktop", ["apps.demo.desktop"], env=desktop_env)
        host_dir = self.data_dir / "host"
        # This PC plays the home PC too: register its viewer's key and its MACs on the host.
        self.run_module(
            ["apps.host.main", "--data-dir", str(host_dir), "allow-device", self.home_pc_code()],
            "registering this PC's home-PC code",
        )
        for mac in mac_addresses():
            self.run_module(
                ["apps.host.main", "--data-dir", str(host_dir), "allow-mac", mac],
                f"registering this PC's MAC address {mac}",
            )
        self.spawn(
            "host",
            [
                "apps.host.main",
                "--headless",
                "--data-dir",
                str(host_dir),
                "--relay",
                relay,
                "--relay-fingerprint",
                fingerprint,
                f"--enroll={token}",  # as one word: a token from another tool may start with "-"
                "--name",
                HOST_NAME,
                "--display",
                display.display,
                "--shutdown-command",
                "true",
            ],
            env=desktop_env,
        )
        deadline = time.monotonic() + HOST_READY_TIMEOUT_S
        while time.monotonic() < deadline:
            status = subprocess.run(
                [
                    self.python,
                    "-m",
                    "apps.host.main",
                    "--data-dir",
                    str(host_dir),
                    "status",
                    "--json",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            with contextlib.suppress(ValueError):
                state = json.loads(status.stdout or "{}")
                if state.get("host_id") and state.get("connected"):
                    return str(state["host_id"]), display.display
            time.sleep(0.5)
        raise DemoError(f"the office PC did not come online; see {self.log_dir / 'host.log'}")


def has_display() -> bool:
    display = os.environ.get("DISPLAY")
    if not display or shutil.which("xdpyinfo") is None:
        return bool(display)
    return subprocess.run(["xdpyinfo"], capture_output=True, check=False).returncode == 0


def run(data_dir: Path, open_apps: bool) -> int:
    if data_dir.exists():
        shutil.rmtree(data_dir)  # each demo starts from a clean slate
    (data_dir / "logs").mkdir(parents=True)
    (data_dir / "relay").mkdir()
    demo = Demo(data_dir)
    stop_requested = False

    def request_stop(*_: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    # SIGHUP: the terminal was closed. The children run in sessions of their own and would
    # outlive it, and the next demo would delete their data under them.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, request_stop)
    try:
        print("starting the relay …", flush=True)
        port, admin_port, fingerprint = demo.start_relay()
        relay = f"127.0.0.1:{port}"
        demo.manage("tenant", "add", TENANT)
        staff = demo.manage("user", "add", "--tenant", TENANT, STAFF)
        admin = demo.manage("admin", "add", "--tenant", TENANT, ADMIN)
        token = str(demo.manage("host-token", "--tenant", TENANT)["token"])
        print("starting the office PC (host agent on a virtual screen) …", flush=True)
        host_id, host_display = demo.start_host(relay, fingerprint, token)
        demo.manage("grant", "--tenant", TENANT, STAFF, host_id)
        totp = pyotp.TOTP(str(staff["totp_secret"]))
        viewer_args = [
            "--relay",
            relay,
            "--relay-fingerprint",
            fingerprint,
            "--tenant",
            TENANT,
            "--user",
            STAFF,
            "--host-id",
            host_id,
        ]
        print_summary(
            relay,
            fingerprint,
            host_id,
            host_display,
            staff,
            admin,
            admin_port,
            viewer_args,
            data_dir,
        )
        if open_apps and has_display():
            demo.spawn("viewer", ["apps.viewer.main", *viewer_args])
            demo.spawn(
                "admin-console",
                [
                    "apps.admin.main",
                    "--api",
                    f"https://127.0.0.1:{admin_port}",
                    "--fingerprint",
                    fingerprint,
                    "--login",
                    ADMIN,
                ],
            )
            print("opened the viewer and the admin console on this display.", flush=True)
        elif open_apps:
            print(
                "no display here: run the viewer command above on a machine with one.", flush=True
            )
        last_step = -1
        while not stop_requested:
            step = int(time.time() // OTP_PRINT_INTERVAL_S)
            if step != last_step:
                print(f"[{time.strftime('%H:%M:%S')}] OTP for {STAFF}: {totp.now()}", flush=True)
                last_step = step
            if any(p.poll() is not None for p in demo.children[:1]):
                raise DemoError(f"the relay stopped; see {demo.log_dir / 'relay.log'}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except Error as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl+C while stopping must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stopping everything …", flush=True)
        demo.stop()
    print("stopped; nothing is left running.", flush=True)
    return 0


def print_summary(
    relay: str,
    fingerprint: str,
    host_id: str,
    host_display: str,
    staff: dict[str, object],
    admin: dict[str, object],
    admin_port: int,
    viewer_args: list[str],
    data_dir: Path,
) -> None:
    lines = [
        "",
        "=== Telework demo is running (Ctrl+C stops it) ===",
        f"relay            {relay}   fingerprint {fingerprint}",
        f"office PC        {HOST_NAME}   host ID {host_id}   (virtual screen {host_display})",
        f"staff user       tenant {TENANT}, user {STAFF}",
        f"  TOTP secret    {staff['totp_secret']}   (add it to an authenticator app)",
        f"admin console    https://127.0.0.1:{admin_port}   login {ADMIN} (tenant {TENANT})",
        f"  password       {admin['password']}",
        f"  TOTP secret    {admin['totp_secret']}",
        "viewer command   .venv/bin/telework-viewer " + " ".join(viewer_args),
        f"logs             {data_dir / 'logs'}",
        "",
    ]
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="telework-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data/demo"),
        help="where the demo keeps its (throw-away) state",
    )
    parser.add_argument(
        "--no-apps", action="store_true", help="do not open the viewer and admin console"
    )
    args = parser.parse_args(argv)
    return run(args.data_dir, not args.no_apps)


if __name__ == "__main__":
    sys.exit(main())
