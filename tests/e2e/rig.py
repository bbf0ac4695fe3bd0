"""The real programs as separate processes, on private X displays: the end-to-end test rig.

pytest-free, so that ``tests/e2e/conftest.py`` (fixtures) and ``bench/latency.py`` share it.
By default everything runs from this checkout with this Python (``python -m relay.cli``,
``apps.host.main``, ``apps.viewer.main``); a :class:`Programs` given to ``Relay``, ``HostAgent``
and ``Viewer`` swaps in other executables, e.g. the frozen builds of ``./run package``
(``Programs.frozen``). Each process writes its output to a log file in a work directory, which
the tests quote when something does not happen in time. Every class here has ``stop()``; the
callers stop what they started, in reverse order.

The timeouts are the longest waits a loaded two-core CI machine needs, multiplied by
``TELEWORK_E2E_TIMEOUT_SCALE`` (default 1); nothing here sleeps a fixed time it could poll for.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mss
import numpy as np
import pyotp

from apps.common.xvfb import start_xvfb
from apps.viewer.settings import mac_addresses
from core.errors import LocalError
from relay.cli import parse_startup
from tests.e2e import office_window as office

ROOT = Path(__file__).resolve().parents[2]
OFFICE_WINDOW = Path(office.__file__)
TIMEOUT_SCALE = float(os.environ.get("TELEWORK_E2E_TIMEOUT_SCALE", "1") or 1)
HOST_SCREEN = (office.SCREEN_W, office.SCREEN_H)
HOME_SCREEN = (1280, 1024)
# The viewer's session window on the home display: smaller than the office screen, so "fit"
# scales the picture down, as on a typical home laptop.
SESSION_WINDOW = (0, 0, 1040, 760)
TENANT = "e2e-city"
USER = "tanaka"
UNGRANTED_USER = "suzuki"  # a staff user of the same tenant who may use no office PC
LOGIN_TITLE = "Connect to your office PC"  # the login dialog's title with --lang en
COLOUR_TOLERANCE = 40  # per channel, after H.264 at 0.1 Mbps and scaling


def timeout(seconds: float) -> float:
    return seconds * TIMEOUT_SCALE


class RigError(AssertionError):
    """Something the rig waited for did not happen; the message says what and shows logs."""


def wait_for(
    predicate: Callable[[], Any], seconds: float, what: str, logs: Callable[[], str] = str
) -> Any:
    """Poll ``predicate`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout(seconds)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RigError(f"timed out after {timeout(seconds):.0f} s waiting for {what}\n{logs()}")
        time.sleep(0.05)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return f"--- {path.name} ---\n" + "\n".join(text.splitlines()[-lines:])


PR_SET_PDEATHSIG = 1  # linux/prctl.h
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """Run in the child before exec: get SIGTERM when the test process dies, even by SIGKILL
    (a CI timeout), so no relay, agent, viewer or Xvfb outlives the run that started it."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Process:
    """One child process, its output in ``log``; ``stop()`` ends it (TERM, then KILL)."""

    def __init__(
        self,
        argv: list[str],
        log: Path,
        env: dict[str, str] | None = None,
        *,
        stdin: bool = False,
        stdout: Path | None = None,
        netns: str | None = None,
    ) -> None:
        if netns is not None:
            argv = ["ip", "netns", "exec", netns, *argv]
        self.log = log
        self.stdout_path = stdout
        log.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as files:
            err = files.enter_context(log.open("ab"))
            out = files.enter_context(stdout.open("ab")) if stdout else err
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=ROOT,
                start_new_session=True,  # a Ctrl+C in the terminal reaches pytest, not these
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self) -> str:
        return _tail(self.log)

    def send_line(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would end it."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, grace_s: float = 10.0) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout(grace_s))
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait(timeout=10)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


@dataclass(frozen=True)
class Programs:
    """The command (without arguments) that starts each program."""

    relay: tuple[str, ...]
    host: tuple[str, ...]
    viewer: tuple[str, ...]

    @classmethod
    def from_source(cls) -> Programs:
        """This checkout, with this Python."""
        return cls(
            tuple(python_module("relay.cli")),
            tuple(python_module("apps.host.main")),
            tuple(python_module("apps.viewer.main")),
        )

    @classmethod
    def frozen(cls, dist: Path) -> Programs:
        """The executables of ``./run package`` in ``dist`` (``dist/<app>/<app>``)."""
        return cls(*((str(dist / app / app),) for app in FROZEN_APPS))


# The frozen programs Programs.frozen needs, in its fields' order.
FROZEN_APPS = ("telework-relay", "telework-host", "telework-viewer")


SOURCE = Programs.from_source()


def base_env() -> dict[str, str]:
    """This environment minus what would make a child pick another display or Qt platform."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WAYLAND_"))}
    env.pop("DISPLAY", None)
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("LANG", "C.UTF-8")
    return env


# ----- X displays --------------------------------------------------------------------------------


class XServer:
    """A private Xvfb on a free display number (``-displayfd`` picks it and says when ready)."""

    def __init__(self, width: int, height: int) -> None:
        self.size = (width, height)
        try:
            self._xvfb = start_xvfb(
                width, height, start_new_session=True, preexec_fn=_die_with_parent
            )
        except LocalError as exc:
            raise RigError(str(exc)) from exc
        self.display = self._xvfb.display

    def env(self, **extra: str) -> dict[str, str]:
        return {**base_env(), "DISPLAY": self.display, "QT_QPA_PLATFORM": "xcb", **extra}

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv),
            env=self.env(),
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout(20),
        )

    def xdotool(self, *args: str) -> str:
        return self.run("xdotool", *args).stdout.strip()

    def pointer(self) -> tuple[int, int]:
        values = dict(
            line.split("=", 1) for line in self.xdotool("getmouselocation", "--shell").split()
        )
        return int(values["X"]), int(values["Y"])

    def clipboard(self, selection: str = "clipboard") -> str | None:
        """What a paste on this display would get, or None when nobody offers anything."""
        result = self.run("xclip", "-o", "-selection", selection, check=False)
        return result.stdout if result.returncode == 0 else None

    def grabber(self) -> mss.MSS:
        """An mss grabber of this display (a context manager); keep it open to grab often."""
        return mss.MSS(display=self.display, with_cursor=False)

    def grab(self, region: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """The screen (or ``region`` x, y, w, h) as an RGB array, rows first."""
        with self.grabber() as grabber:
            return grab_rgb(grabber, region or (0, 0, *self.size))

    def stop(self) -> None:
        self._xvfb.stop()


class ClipboardOwner:
    """``xclip`` holding ``text`` on a display's clipboard until stopped (it stays in front)."""

    def __init__(self, screen: XServer, text: str, selection: str = "clipboard") -> None:
        self.proc = subprocess.Popen(
            ["xclip", "-quiet", "-selection", selection, "-i"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=screen.env(),
            preexec_fn=_die_with_parent,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.close()
        wait_for(lambda: screen.clipboard(selection) == text, 10, f"xclip to own {selection}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)


# ----- the office PC's desktop ------------------------------------------------------------------


class Desktop:
    """A window manager (openbox) and a system tray (trayer) on ``screen``, as a user's desktop."""

    TOOLS = ("openbox", "trayer", "xwininfo", "xprop")

    def __init__(self, screen: XServer, work: Path) -> None:
        self.screen = screen
        self.processes = [
            Process(["openbox"], work / "openbox.log", screen.env()),
            Process(
                ["trayer", "--edge", "bottom", "--align", "right", "--widthtype", "request"],
                work / "trayer.log",
                screen.env(),
            ),
        ]
        wait_for(self._tray_ready, 20, "the system tray", lambda: _tail(work / "trayer.log"))

    def _tray_ready(self) -> bool:
        # trayer takes the tray selection as it maps its window: once the window is there,
        # icons can dock.
        owner = self.screen.run("xdotool", "search", "--class", "trayer", check=False).stdout
        return bool(owner.split())

    def _parent(self, wid: str) -> str | None:
        info = self.screen.run("xwininfo", "-id", wid, "-tree", check=False).stdout
        for line in info.splitlines():
            if "Parent window id:" in line:
                parent = line.split(":", 1)[1].split()[0]
                return None if parent == "0x0" else parent
        return None

    def docked(self, pid: int) -> str | None:
        """The window of process ``pid`` that sits in the system tray (its tray icon), if any."""
        found = self.screen.run("xdotool", "search", "--pid", str(pid), check=False).stdout
        for wid in found.split():
            ancestor = self._parent(wid)
            while ancestor is not None:
                wm_class = self.screen.run("xprop", "-id", ancestor, "WM_CLASS", check=False)
                if '"trayer"' in wm_class.stdout:
                    return wid
                ancestor = self._parent(ancestor)
        return None

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


class OfficeDesktop:
    """The Tk window of :mod:`office_window` on the office display, and what it recorded."""

    def __init__(self, screen: XServer, work: Path) -> None:
        self.screen = screen
        self.events_path = work / "office-events.jsonl"
        self.events_path.touch()
        self.process = Process(
            [sys.executable, str(OFFICE_WINDOW), str(self.events_path)],
            work / "office-window.log",
            screen.env(),
        )
        self.wait_event(lambda e: e["event"] == "ready", 20, "the office window")

    def events(self) -> list[dict[str, Any]]:
        text = self.events_path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def wait_event(
        self, match: Callable[[dict[str, Any]], bool], seconds: float, what: str, since: int = 0
    ) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((e for e in self.events()[since:] if match(e)), None)

        return wait_for(found, seconds, what, lambda: self.process.tail())

    def tail_events(self, since: int) -> Callable[[], str]:
        """For a timeout message: what the window recorded since ``since``."""
        return lambda: "office window events: " + json.dumps(self.events()[since:])

    def text(self) -> str:
        """The text field's content, as last recorded."""
        texts = [e["value"] for e in self.events() if e["event"] == "text"]
        return texts[-1] if texts else ""

    def stop(self) -> None:
        self.process.stop()


# ----- the relay ---------------------------------------------------------------------------------


class Relay:
    """``telework-relay serve`` on a data directory; can be killed and started again."""

    def __init__(
        self,
        data_dir: Path,
        work: Path,
        host: str = "127.0.0.1",
        programs: Programs = SOURCE,
        *,
        database: str | None = None,
        node_id: str | None = None,
    ) -> None:
        """``database``: a PostgreSQL URL instead of the SQLite file in ``data_dir``;
        ``node_id``: run as that node of a cluster (several share ``database``)."""
        self.data_dir = data_dir
        self.work = work
        self.host = host
        self.programs = programs
        self.database_args = ["--database", database] if database else []
        self.node_args = ["--node-id", node_id] if node_id else []
        self.extra_args: list[str] = []  # more ``serve`` options
        self.name = node_id or "relay"
        self.port = 0
        self.fingerprint = ""
        self.metrics_url = ""
        self.process: Process | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, netns: str | None = None) -> None:
        """Start on ``self.port`` (0 the first time: any free port, which is then kept)."""
        self.starts += 1
        log = self.work / f"{self.name}-{self.starts}.log"
        argv = [
            *self.programs.relay,
            "serve",
            *self.database_args,
            *self.node_args,
            *self.extra_args,
            "--data-dir",
            str(self.data_dir),
            "--listen",
            f"{self.host}:{self.port}",
            "--metrics-listen",
            f"{self.host}:0",
        ]
        self.process = Process(argv, log, base_env(), netns=netns)

        def started() -> bool:
            text = log.read_text(encoding="utf-8", errors="replace")
            if not (self.process and self.process.alive()):
                raise RigError(f"the relay exited\n{_tail(log)}")
            started = parse_startup(text)
            if started is None:
                return False
            self.port, self.fingerprint = started.port, started.fingerprint
            self.metrics_url = started.metrics_url
            return True

        wait_for(started, 30, "the relay to listen", lambda: _tail(log))

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def tail(self) -> str:
        return self.process.tail() if self.process else ""

    def manage(self, *args: str) -> dict[str, Any]:
        """One ``telework-relay manage --json`` action; its JSON answer."""
        argv = [
            *self.programs.relay,
            "manage",
            "--data-dir",
            str(self.data_dir),
            *self.database_args,
            "--json",
            *args,
        ]
        result = subprocess.run(
            argv, capture_output=True, text=True, env=base_env(), cwd=ROOT, timeout=timeout(60)
        )
        if result.returncode != 0:
            raise RigError(f"manage {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return json.loads(result.stdout)

    def metrics(self) -> dict[str, float]:
        """The Prometheus samples, by name with labels (``name{label="v"}``)."""
        with urllib.request.urlopen(self.metrics_url, timeout=timeout(10)) as response:
            text = response.read().decode()
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples


@dataclass
class Accounts:
    """The tenant and staff users made with ``manage``; secrets as the admin received them."""

    relay: Relay
    tenant: str
    user: str
    totp_secret: str
    ungranted_user: str

    @classmethod
    def create(cls, relay: Relay, tenant: str = TENANT) -> Accounts:
        relay.manage("tenant", "add", tenant)
        secret = relay.manage("user", "add", "--tenant", tenant, USER)["totp_secret"]
        relay.manage("user", "add", "--tenant", tenant, UNGRANTED_USER)
        return cls(relay, tenant, USER, secret, UNGRANTED_USER)

    def totp_now(self) -> str:
        """The code the staff member's authenticator app shows now (each works once)."""
        return pyotp.TOTP(self.totp_secret).now()

    def one_time_code(self, user: str) -> str:
        """A single-use code from a printed sheet (issuing it revokes the user's older ones)."""
        return self.relay.manage("user", "codes", "--tenant", self.tenant, "--count", "1", user)[
            "codes"
        ][0]

    def enrolment_token(self) -> str:
        return self.relay.manage("host-token", "--tenant", self.tenant)["token"]

    def grant(self, user: str, host_id: str) -> None:
        self.relay.manage("grant", "--tenant", self.tenant, user, host_id)


# ----- the office PC's agent ---------------------------------------------------------------------


class HostAgent:
    """``telework-host --headless``, enrolled with a token, showing and driving ``screen``."""

    def __init__(self, data_dir: Path, work: Path, name: str, programs: Programs = SOURCE) -> None:
        self.data_dir = data_dir
        self.work = work
        self.name = name
        self.programs = programs
        self.process: Process | None = None
        self._host_id = ""

    def command(self, *args: str) -> str:
        argv = [*self.programs.host, "--data-dir", str(self.data_dir), *args]
        result = subprocess.run(
            argv, capture_output=True, text=True, env=base_env(), cwd=ROOT, timeout=timeout(60)
        )
        if result.returncode != 0:
            raise RigError(f"telework-host {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def status(self) -> dict[str, Any]:
        return json.loads(self.command("status", "--json"))

    def allow_mac(self, mac: str) -> None:
        self.command("allow-mac", mac, "--label", "home PC (e2e)")

    def allow_device(self, code: str) -> None:
        self.command("allow-device", code, "--label", "home PC (e2e)")

    def deny_device(self, code: str) -> None:
        self.command("deny-device", code)

    def start(self, relay: Relay, screen: XServer, token: str | None = None) -> None:
        args = ["--headless", "--relay", relay.address, "--relay-fingerprint", relay.fingerprint]
        if token:
            args += [f"--enroll={token}"]  # as one word: a token may start with "-"
        self.launch(screen, *args)
        self.wait_connected()

    def launch(
        self,
        screen: XServer,
        *args: str,
        netns: str | None = None,
        before: tuple[str, ...] = (),
        **env: str,
    ) -> None:
        """``telework-host`` on ``screen`` with ``args`` (without ``--headless``: the tray app),
        in network namespace ``netns`` if given, started by the command ``before`` if given
        (which ends by running the agent: a switched-off PC's stand-in)."""
        argv = [
            *before,
            *self.programs.host,
            "--data-dir",
            str(self.data_dir),
            "--display",
            screen.display,
            "--name",
            self.name,
            "--shutdown-command",
            shutil.which("true") or "true",  # never power off the test machine
            *args,
        ]
        log = self.work / f"host-{self.name}.log"
        self.process = Process(argv, log, screen.env(**env), netns=netns)

    def enrol(self, relay: Relay, screen: XServer, token: str) -> str:
        """Start with ``--enroll token`` and keep running, as an admin installs it; the host ID."""
        self.start(relay, screen, token)
        return self.host_id

    def wait_connected(self, seconds: float = 30) -> None:
        def connected() -> bool:
            if self.process is not None and not self.process.alive():
                raise RigError(f"the host agent exited\n{self.tail()}")
            status = self.status()
            return bool(status["connected"] and status["host_id"])

        wait_for(connected, seconds, f"host {self.name} online", self.tail)

    @property
    def host_id(self) -> str:
        if not self._host_id:
            self._host_id = str(self.status()["host_id"])
        return self._host_id

    def tail(self) -> str:
        return self.process.tail() if self.process else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


# ----- the home PC's viewer ----------------------------------------------------------------------


class Viewer:
    """``telework-viewer --report-state --lang en`` on the home display, with a fresh HOME.

    Its state lines (stdout) are read from a file; it is driven only as a user would be able
    to: xdotool typing and clicking on its windows.
    """

    def __init__(
        self,
        screen: XServer,
        work: Path,
        relay: Relay,
        tenant: str,
        user: str,
        host_id: str,
        *,
        netns: str | None = None,
        relay_address: str | None = None,
        register_on: HostAgent | None = None,
        programs: Programs = SOURCE,
    ) -> None:
        """``register_on``: the office PC to register this home PC's key on first, as its
        staff member would have it done (the viewer's ``--device-code`` read out)."""
        self.screen = screen
        home = work / "home"
        runtime = work / "runtime"
        for d in (home, runtime):
            d.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        self.home = home
        env = screen.env(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_RUNTIME_DIR=str(runtime),
        )
        argv = [
            *programs.viewer,
            "--report-state",
            "--lang",
            "en",
            "--relay",
            relay_address or relay.address,
            "--relay-fingerprint",
            relay.fingerprint,
            "--tenant",
            tenant,
            "--user",
            user,
            "--host-id",
            host_id,
        ]
        self.states_path = work / "viewer-states.jsonl"
        self.device_code = self._device_code(programs, env)
        if register_on is not None:
            register_on.allow_device(self.device_code)
        self.process = Process(
            argv, work / "viewer.log", env, stdin=True, stdout=self.states_path, netns=netns
        )

    @staticmethod
    def _device_code(programs: Programs, env: dict[str, str]) -> str:
        """``telework-viewer --device-code`` in this viewer's home: its key, made now."""
        result = subprocess.run(
            [*programs.viewer, "--device-code"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=timeout(60),
        )
        if result.returncode != 0:
            raise RigError(f"telework-viewer --device-code failed: {result.stderr}")
        return result.stdout.strip()

    def states(self) -> list[dict[str, Any]]:
        if not self.states_path.exists():
            return []
        out = []
        for line in self.states_path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def wait_state(self, name: str, seconds: float, since: int = 0) -> tuple[int, dict[str, Any]]:
        """The first ``state == name`` line at or after index ``since``: (index, line)."""

        def found() -> tuple[int, dict[str, Any]] | None:
            for i, state in enumerate(self.states()[since:], start=since):
                if state.get("state") == name:
                    return i, state
            if not self.process.alive():
                raise RigError(f"the viewer exited\n{self.logs()}")
            return None

        return wait_for(found, seconds, f"viewer state {name!r}", self.logs)

    def logs(self) -> str:
        return f"states: {self.states()}\n{self.process.tail()}"

    def windows(self) -> dict[str, str]:
        """The viewer's visible top-level windows: id -> title."""
        found = self.screen.run(
            "xdotool",
            "search",
            "--all",
            "--onlyvisible",
            "--pid",
            str(self.process.pid),
            "--name",
            ".",
            check=False,
        ).stdout.split()
        return {wid: self.screen.xdotool("getwindowname", wid) for wid in found}

    def dialog(self, seconds: float = 30) -> str:
        def find() -> str | None:
            return next((w for w, t in self.windows().items() if LOGIN_TITLE in t), None)

        return wait_for(find, seconds, "the login dialog", self.logs)

    def session_window(self, seconds: float = 30) -> str:
        def find() -> str | None:
            return next((w for w, t in self.windows().items() if LOGIN_TITLE not in t), None)

        return wait_for(find, seconds, "the session window", self.logs)

    def geometry(self, wid: str) -> tuple[int, int, int, int]:
        values = dict(
            line.split("=", 1)
            for line in self.screen.xdotool("getwindowgeometry", "--shell", wid).split()
        )
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def focus(self, wid: str) -> None:
        """Give ``wid`` the keyboard (there is no window manager to activate it)."""
        self.screen.xdotool("windowraise", wid)
        self.screen.xdotool("windowfocus", "--sync", wid)

    def type_otp(self, otp: str) -> None:
        """Type the one-time password into the login dialog and press Enter, as a user does."""
        wid = self.dialog()
        self.focus(wid)
        self.screen.xdotool("type", "--delay", "40", otp)
        self.screen.xdotool("key", "Return")

    def place_session_window(self) -> str:
        wid = self.session_window()
        x, y, w, h = SESSION_WINDOW
        self.screen.xdotool("windowmove", "--sync", wid, str(x), str(y))
        self.screen.xdotool("windowsize", "--sync", wid, str(w), str(h))
        self.focus(wid)
        return wid

    def stop(self) -> None:
        """``quit`` on stdin ends the session as the window's close button would."""
        if self.process.alive():
            with contextlib.suppress(OSError):
                self.process.send_line("quit")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.proc.wait(timeout=timeout(10))
        self.process.stop()


# ----- where the office picture is on the home display -------------------------------------------


@dataclass(frozen=True)
class PictureMap:
    """Office screen pixel (x, y) appears at home pixel (ox + sx * x, oy + sy * y)."""

    sx: float
    sy: float
    ox: float
    oy: float

    def to_home(self, x: float, y: float) -> tuple[int, int]:
        return round(self.ox + self.sx * x), round(self.oy + self.sy * y)

    def to_office(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.ox) / self.sx, (y - self.oy) / self.sy

    def home_region(self, x: int, y: int, w: int, h: int, inset: float = 0.2) -> np.s_:
        """Array slices of the office rectangle's inner part, as it appears at home."""
        x0, y0 = self.to_home(x + w * inset, y + h * inset)
        x1, y1 = self.to_home(x + w * (1 - inset), y + h * (1 - inset))
        return np.s_[y0:y1, x0:x1]


def grab_rgb(grabber: Any, region: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = region
    shot = grabber.grab({"left": x, "top": y, "width": w, "height": h})
    return np.asarray(shot)[:, :, 2::-1].copy()


def hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def colour_centroid(image: np.ndarray, colour: str) -> tuple[float, float, int] | None:
    """Centre (x, y) and pixel count of the pixels near ``colour``; None if there are few."""
    near = np.all(np.abs(image.astype(np.int16) - hex_rgb(colour)) <= COLOUR_TOLERANCE, axis=2)
    ys, xs = np.nonzero(near)
    if len(xs) < 50:
        return None
    return float(xs.mean()), float(ys.mean()), len(xs)


def locate_picture(image: np.ndarray) -> PictureMap | None:
    """Find the office screen's corner markers in a home screenshot; None if not all show."""
    found = {}
    for name in ("top_left", "top_right", "bottom_left", "bottom_right"):
        x, y, size, colour = office.MARKERS[name]
        centre = colour_centroid(image, colour)
        if centre is None:
            return None
        found[name] = ((x + size / 2, y + size / 2), centre[:2])
    (ax, ay), (hax, hay) = found["top_left"]
    (bx, by), (hbx, hby) = found["bottom_right"]
    sx, sy = (hbx - hax) / (bx - ax), (hby - hay) / (by - ay)
    if sx <= 0 or sy <= 0:
        return None
    return PictureMap(sx, sy, hax - sx * ax, hay - sy * ay)


def steady_picture(home: XServer, seconds: float = 45) -> PictureMap:
    """The office picture's place on the home display, once it stops moving."""
    last: list[PictureMap | None] = [None]

    def steady() -> PictureMap | None:
        now = locate_picture(home.grab())
        before, last[0] = last[0], now
        if now is None or before is None:
            return None
        moved = max(abs(now.ox - before.ox), abs(now.oy - before.oy))
        return now if moved < 0.5 and abs(now.sx - before.sx) < 0.002 else None

    return wait_for(steady, seconds, "the office picture in the viewer window")


def mean_colour(image: np.ndarray, where: np.s_) -> np.ndarray:
    return image[where].reshape(-1, 3).mean(axis=0)


def count_near(image: np.ndarray, colour: str, tolerance: int = COLOUR_TOLERANCE) -> int:
    """How many pixels are within ``tolerance`` (per channel) of ``colour``."""
    near = np.all(np.abs(image.astype(np.int16) - hex_rgb(colour)) <= tolerance, axis=2)
    return int(near.sum())


# ----- one whole session, as the benchmarks run it -----------------------------------------------


@dataclass
class OneSession:
    """A relay, an office PC showing the office window on a display of its own, and a viewer on
    another display, logged in with the TOTP typed into its dialog and showing the office."""

    office_screen: XServer
    home_screen: XServer
    desktop: OfficeDesktop
    relay: Relay
    accounts: Accounts
    agent: HostAgent
    viewer: Viewer


def one_session(
    stack: contextlib.ExitStack,
    work: Path,
    *,
    relay_host: str = "127.0.0.1",
    home_macs: list[str] | None = None,
    viewer_relay: Callable[[Relay], str | None] = lambda relay: None,
    netns: str | None = None,
) -> OneSession:
    """Start it all under ``stack`` (stopped when it closes). ``home_macs``: the MACs the
    office PC registers (this machine's by default); ``viewer_relay``: the address the viewer
    is given for the running relay (None: the relay's own); ``netns``: the viewer's namespace."""
    office_screen = XServer(*HOST_SCREEN)
    stack.callback(office_screen.stop)
    home_screen = XServer(*HOME_SCREEN)
    stack.callback(home_screen.stop)
    desktop = OfficeDesktop(office_screen, work)
    stack.callback(desktop.stop)
    relay = Relay(work / "relay", work, host=relay_host)
    relay.start()
    stack.callback(relay.stop)
    accounts = Accounts.create(relay)
    agent = HostAgent(work / "host", work, "PC-01")
    for mac in mac_addresses() if home_macs is None else home_macs:
        agent.allow_mac(mac)
    stack.callback(agent.stop)
    host_id = agent.enrol(relay, office_screen, accounts.enrolment_token())
    accounts.grant(USER, host_id)
    viewer = Viewer(
        home_screen,
        work / "viewer",
        relay,
        accounts.tenant,
        USER,
        host_id,
        netns=netns,
        relay_address=viewer_relay(relay),
        register_on=agent,
    )
    stack.callback(viewer.stop)
    viewer.wait_state("login", 30)
    viewer.type_otp(accounts.totp_now())
    viewer.wait_state("showing", 90)
    return OneSession(office_screen, home_screen, desktop, relay, accounts, agent, viewer)
