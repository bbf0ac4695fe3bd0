#!/usr/bin/env python3
"""Regenerate the documentation's screenshots (``docs/images/*.png``) from the running demo.

    ./run screenshots                        # Japanese, into docs/images/ (about 2 minutes)
    .venv/bin/python docs/screenshots.py     # the same, without ./run's set-up step
    .venv/bin/python docs/screenshots.py --lang en --out /tmp/shots --keep-work

It brings up what ``./run`` brings up (a relay with its admin API, the demo municipality
``demo-city`` with its staff member ``tanaka`` and admin ``admin``, the office PC
``DEMO-PC-01`` showing the demo's office desktop), on two private Xvfb displays of 1280x800
with the openbox window manager, and works through the apps as the people in the operations
guide (docs/ja/admin-guide.md) do:

- **office display** (openbox and trayer, a system tray): the office PC's tray app enrols
  through its first-run wizard (the enrolment code typed in), its tray menu opens, and the
  home PC the viewer names in its refusal is registered in "allowed home PCs" by its code;
- **home display** (openbox): the viewer, pre-filled as ``./run`` opens it, gets the staff
  member's TOTP typed in, is refused (home PC not registered yet) and, once registered,
  shows the office PC; then the admin console: its sign-in dialog gets the admin's password
  and TOTP typed in, then each tab is shown and a few actions are done (a staff member added:
  their authenticator QR; single-use codes; an enrolment code; a home PC's MAC address).

Windows are found by their titles, read from the apps' translation catalogs (so a change of
wording does not break this script), and by process; keys are typed with xdotool. The
console's tabs are worked by a small driver around the real console (``_console`` below,
run as its own process): its tables take the Tab key, so keyboard navigation cannot reach
its buttons, and their places change with every layout change. It signs in through the real
sign-in dialog, typed into with xdotool, then calls the tabs' own actions, the ones their
buttons call, and switches tabs as a click on one would.

Each picture is taken once the screen has stopped changing, of the window with its frame
(or, for the tray menu, the menu and the tray icon), and written as PNG. A window that
never appears, an action the relay or an app refused, or a registration that did not take
stops the run with the reason and the tail of the app's log. Everything started here is
stopped at the end, also on Ctrl+C or SIGTERM, and checked to be gone; each child also gets
SIGTERM if this script is killed (see tests/e2e/rig.py, whose process classes it uses).

Needs: Xvfb, xdotool, xclip, openbox, trayer, xwininfo, xprop (Debian: xvfb xdotool xclip
openbox trayer x11-utils; ``./run setup`` installs them as root) and the Japanese fonts
(fonts-noto-cjk).
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
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mss  # noqa: E402 - after the path is set, as in bench/
import mss.tools  # noqa: E402
import pyotp  # noqa: E402

from apps.common.enrolment_code import EnrolmentCode  # noqa: E402
from apps.common.i18n import Translator  # noqa: E402
from apps.demo.launcher import ADMIN, HOST_NAME, STAFF, TENANT  # noqa: E402
from apps.viewer.settings import mac_addresses  # noqa: E402
from relay.cli import parse_startup  # noqa: E402
from tests.e2e.rig import (  # noqa: E402
    ClipboardOwner,
    Desktop,
    Process,
    Relay,
    RigError,
    XServer,
    base_env,
    python_module,
    wait_for,
)

SCREEN = (1280, 800)
OUT_DIR = ROOT / "docs" / "images"
# Where the windows go (their frames' top left corner; size without the frame, or as much as
# fits on the screen).
VIEWER_WINDOW = (0, 0, *SCREEN)
VIEWER_DIALOG = (340, 220, 600, 280)  # the login dialog: room for a refusal's whole text
CONSOLE_WINDOW = (40, 0, 1200, SCREEN[1])
HOME_PCS_DIALOG_WIDTH = 720  # the office PC's dialog, wide enough for a whole home-PC code
NEW_STAFF = "sato"  # added in the console: the staff tab then shows their QR code
# What the home PC is called where it is registered.
HOME_PC_LABEL = {"ja": "田中さんの自宅PC", "en": "Tanaka's home PC"}
VIEWER_TYPES = "Typed at home, arriving on the office PC."  # into the office document
CHART_SPAN_S = 60.0  # the monitoring tab is shown this long after the session started
CHART_STEP_S = 10.0  # while waiting, a line is typed on the office PC this often
STEADY_S = 0.3  # a picture is taken when the screen has not changed for this long
STEADY_MAX_S = 8.0  # ... or after this long (the live tabs and the video keep changing)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class ShotError(RigError):
    """Something the script waited for did not happen; the message says what."""


# ----- the texts on screen, from the apps' catalogs -----------------------------------------------


class Titles:
    """Window titles as the apps show them in ``lang`` (read from the same catalogs)."""

    def __init__(self, lang: str) -> None:
        self.catalogs = {d: Translator(d, lang) for d in ("viewer", "host", "admin")}

    def __call__(self, domain: str, key: str, **values: object) -> str:
        text = self.catalogs[domain](key, **values)
        if text == key:  # a key the catalog lost: say so rather than wait for a window forever
            raise ShotError(f"the {domain} catalog has no {key!r}: update docs/screenshots.py")
        return text


def locale_env(lang: str) -> dict[str, str]:
    name = "ja_JP.UTF-8" if lang == "ja" else "en_US.UTF-8"
    return {"LANG": name, "LC_ALL": name, "LANGUAGE": lang}


# ----- the displays, windows and pictures ---------------------------------------------------------


class Screen:
    """One Xvfb display and what is done on it: windows found, keys typed, pictures taken."""

    def __init__(self, name: str, work: Path, lang: str) -> None:
        self.name = name
        self.x = XServer(*SCREEN)
        self.work = work
        self.lang = lang

    def env(self, **extra: str) -> dict[str, str]:
        return self.x.env(**locale_env(self.lang), **extra)

    def xdotool(self, *args: str) -> str:
        return self.x.xdotool(*args)

    def windows(self, pid: int) -> dict[str, str]:
        """The process's visible windows that have a title: id -> title."""
        found = self.x.run(
            "xdotool", "search", "--all", "--onlyvisible", "--pid", str(pid), "--name", ".",
            check=False,
        ).stdout.split()  # fmt: skip
        titles = {}
        for wid in found:
            with contextlib.suppress(subprocess.CalledProcessError):
                titles[wid] = self.xdotool("getwindowname", wid)
        return titles

    def all_windows(self, pid: int) -> set[str]:
        """Every visible window of the process, titled or not (menus, tray icons)."""
        argv = ["xdotool", "search", "--all", "--onlyvisible", "--pid", str(pid)]
        return set(self.x.run(*argv, check=False).stdout.split())

    def window(
        self, process: Process, match: Callable[[str], bool], what: str, seconds: float = 30
    ) -> str:
        """The id of ``process``'s visible window whose title ``match``es; fails after
        ``seconds`` with the app's log, or at once if the app exits."""

        def find() -> str | None:
            if not process.alive():
                raise ShotError(f"{what}: the app exited\n{process.tail()}")
            return next((w for w, t in self.windows(process.pid).items() if match(t)), None)

        wid: str = wait_for(find, seconds, what, process.tail)
        return wid

    def gone(self, process: Process, wid: str, what: str) -> None:
        wait_for(lambda: wid not in self.windows(process.pid), 15, f"{what} to close")

    def wm_ready(self) -> bool:
        """Whether a window manager runs (it names its window on the root window)."""
        wm = self.x.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK", check=False).stdout
        return "window id" in wm

    def activate(self, wid: str) -> None:
        self.xdotool("windowactivate", "--sync", wid)

    def place(self, wid: str, x: int, y: int, w: int, h: int) -> None:
        """Put the window's frame at x, y and make the window w x h, or as much of that as
        fits on the screen with the frame (title bar included)."""
        self.xdotool("windowsize", "--sync", wid, str(w), str(h))
        _, _, fw, fh = self.frame(wid)
        over_w, over_h = max(0, x + fw - SCREEN[0]), max(0, y + fh - SCREEN[1])
        if over_w or over_h:
            self.xdotool("windowsize", "--sync", wid, str(w - over_w), str(h - over_h))
        # windowmove places the client window; the frame goes where openbox puts it around
        # it, so move by the difference until the frame is at x, y.
        client = self._info(wid)
        cx, cy = int(client["Absolute upper-left X"]), int(client["Absolute upper-left Y"])

        def framed() -> bool:
            fx, fy, _, _ = self.frame(wid)
            if (fx, fy) == (x, y):
                return True
            nonlocal cx, cy
            cx, cy = cx + x - fx, cy + y - fy
            self.xdotool("windowmove", wid, str(cx), str(cy))
            time.sleep(0.2)
            return False

        wait_for(framed, 10, f"window {wid} to move to {x},{y}")

    def keys(self, *names: str) -> None:
        self.xdotool("key", "--delay", "60", *names)

    def type(self, text: str) -> None:
        """Type ``text`` into the focused field. Japanese is pasted (Ctrl+V) instead: xdotool
        types a character it has no key for by remapping a key, and the app misses some."""
        if text.isascii():
            self.xdotool("type", "--delay", "25", "--", text)
            return
        owner = ClipboardOwner(self.x, text)
        try:
            self.keys("ctrl+v")
        finally:
            owner.stop()

    # -- geometry and pictures -------------------------------------------------------------

    def _info(self, wid: str) -> dict[str, str]:
        text = self.x.run("xwininfo", "-id", wid, check=False).stdout
        return {k.strip(): v.strip() for k, v in re.findall(r"^\s*([^:\n]+):\s*(.*)$", text, re.M)}

    def _parent(self, wid: str) -> str | None:
        tree = self.x.run("xwininfo", "-id", wid, "-tree", check=False).stdout
        found = re.search(r"Parent window id: (0x[0-9a-f]+)", tree)
        root = re.search(r"Root window id: (0x[0-9a-f]+)", tree)
        if not found or (root and found[1] == root[1]):
            return None
        return found[1]

    def frame(self, wid: str) -> tuple[int, int, int, int]:
        """Where the window is on the screen with the window manager's frame: x, y, w, h."""
        top = wid
        while (parent := self._parent(top)) is not None:
            top = parent
        info = self._info(top)
        x, y = int(info["Absolute upper-left X"]), int(info["Absolute upper-left Y"])
        return x, y, int(info["Width"]), int(info["Height"])

    def clip(self, region: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        x, y, w, h = region
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(SCREEN[0], x + w), min(SCREEN[1], y + h)
        return x0, y0, x1 - x0, y1 - y0

    def grab(self, region: tuple[int, int, int, int]) -> Any:
        x, y, w, h = region
        with mss.MSS(display=self.x.display, with_cursor=False) as grabber:
            return grabber.grab({"left": x, "top": y, "width": w, "height": h})

    def shot(self, path: Path, region: tuple[int, int, int, int]) -> Path:
        """Save ``region`` once it has stopped changing (or after STEADY_MAX_S)."""
        region = self.clip(region)
        deadline = time.monotonic() + STEADY_MAX_S
        last = self.grab(region)
        while time.monotonic() < deadline:
            time.sleep(STEADY_S)
            now = self.grab(region)
            if now.rgb == last.rgb:
                break
            last = now
        mss.tools.to_png(last.rgb, last.size, output=str(path))
        log(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return path

    def stop(self) -> None:
        self.x.stop()


# ----- the relay, with its admin API --------------------------------------------------------------


class DemoRelay(Relay):
    """The e2e rig's relay, plus the admin API on a port it picks itself (as ``./run``)."""

    admin_url = ""

    def start(self, netns: str | None = None) -> None:
        self.starts += 1
        log_path = self.work / "relay.log"
        argv = python_module(
            "relay.cli", "serve", "--data-dir", str(self.data_dir),
            "--listen", f"{self.host}:0", "--admin-listen", f"{self.host}:0",
            "--metrics-listen", f"{self.host}:0",
        )  # fmt: skip
        self.process = Process(argv, log_path, base_env())

        def started() -> bool:
            text = log_path.read_text(encoding="utf-8", errors="replace")
            if not (self.process and self.process.alive()):
                raise ShotError(f"the relay exited\n{self.tail()}")
            startup, admin = parse_startup(text), re.search(r"admin API on (https://\S+)", text)
            if startup is None or admin is None:
                return False
            self.port, self.fingerprint = startup.port, startup.fingerprint
            self.admin_url = admin[1]
            return True

        wait_for(started, 30, "the relay to listen", self.tail)


# ----- the console driver -------------------------------------------------------------------------


class Console:
    """The admin console (``_console`` below) on the home display, driven through its stdin."""

    def __init__(self, screen: Screen, relay: DemoRelay, work: Path) -> None:
        self.screen = screen
        argv = [
            sys.executable, str(Path(__file__).resolve()), "_console",
            "--api", relay.admin_url, "--fingerprint", relay.fingerprint, "--login", ADMIN,
            "--lang", screen.lang,
        ]  # fmt: skip
        self.answers = work / "console-answers.jsonl"
        self.process = Process(
            argv, work / "console.log", screen.env(), stdin=True, stdout=self.answers
        )
        self.asked = 0

    def _answer(self, index: int, what: str, seconds: float = 60) -> dict[str, Any]:
        def answer() -> dict[str, Any] | None:
            lines = self.answers.read_text(encoding="utf-8").splitlines()
            if len(lines) > index:
                parsed: dict[str, Any] = json.loads(lines[index])
                return parsed
            if not self.process.alive():
                raise ShotError(f"the console exited during {what}\n{self.process.tail()}")
            return None

        got: dict[str, Any] = wait_for(answer, seconds, what, self.process.tail)
        if "error" in got:
            raise ShotError(f"the console could not do {what}: {got['error']}")
        return got

    def signed_in(self) -> None:
        self._answer(0, "the sign-in")
        self.asked = 1

    def do(self, tab: str, call: str | None = None, *args: Any, **fields: str) -> Any:
        """Show the tab ``tab`` (MainWindow's attribute); fill its ``fields`` (line edits,
        by attribute); then await its action ``call(*args)``; what the action returned."""
        command = {"tab": tab, "call": call, "args": list(args), "fields": fields}
        assert self.process.proc.stdin is not None
        self.process.send_line(json.dumps(command))
        self.asked += 1
        return self._answer(self.asked - 1, f"{tab}.{call or 'show'}").get("result")

    def stop(self) -> None:
        if self.process.alive():
            with contextlib.suppress(OSError):
                self.process.send_line(json.dumps({"quit": True}))
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.proc.wait(timeout=15)
        self.process.stop()


def _console(argv: list[str]) -> int:  # pragma: no cover - runs as its own process
    """The real console (sign-in dialog, then MainWindow) on a qasync loop, taking JSON
    commands on stdin and answering each with one JSON line on stdout."""
    parser = argparse.ArgumentParser(prog="screenshots.py _console")
    parser.add_argument("--api", required=True)
    parser.add_argument("--fingerprint", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--lang", default="ja")
    args = parser.parse_args(argv)

    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication, QLineEdit

    from apps.admin.main import LoginDialog, sign_in
    from apps.admin.texts import tr
    from apps.common.qt_startup import start_app

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    start_app(app, "telework-admin", args.lang)
    app.setApplicationName(tr("app_title"))

    def say(answer: dict[str, Any]) -> None:
        print(json.dumps(answer, ensure_ascii=False, default=str), flush=True)

    async def yes(_question: str) -> bool:  # a confirmation someone may add to an action
        return True

    async def run() -> int:
        window = await sign_in(LoginDialog(args.api, args.fingerprint, args.login))
        if window is None:
            say({"error": "sign-in cancelled"})
            return 1
        window.confirm = yes
        failures: list[str] = []
        window.failed.connect(failures.append)  # what the status bar would say went wrong
        window.show()
        window.start_live_refresh()
        say({"ready": True})
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[bytes] = asyncio.Queue()
        fd = sys.stdin.fileno()

        def readable() -> None:
            data = os.read(fd, 65536)
            if not data:
                loop.remove_reader(fd)
            for line in data.splitlines() or [b""]:
                lines.put_nowait(line)

        loop.add_reader(fd, readable)
        while line := await lines.get():
            command = json.loads(line)
            if command.get("quit"):
                break
            failures.clear()
            try:
                tab = getattr(window, command["tab"])
                switched = window.tabs.currentWidget() is not tab
                if switched:
                    window.statusBar().clearMessage()  # what was said on the tab left
                window.tabs.setCurrentWidget(tab)
                for name, value in command["fields"].items():
                    field = getattr(tab, name)
                    assert isinstance(field, QLineEdit), name
                    field.setText(value)
                result = None
                while window._tasks:  # the refresh the tab switch started, done first:
                    await asyncio.sleep(0.05)  # a report is made one at a time per tenant
                if command["call"]:
                    result = await getattr(tab, command["call"])(*command["args"])
                elif not switched:
                    await tab.refresh()
                await asyncio.sleep(0.3)
                if failures:
                    raise RuntimeError("; ".join(failures))
                say({"ok": True, "result": result})
            except Exception as exc:
                say({"error": f"{type(exc).__name__}: {exc}"})
        loop.remove_reader(fd)
        window.live_timer.stop()
        await window.client.sign_out()
        await window.client.close()
        window.close()
        return 0

    return int(qasync.run(run()))


# ----- the run ------------------------------------------------------------------------------------


class Run:
    """One run: everything it started (stopped in reverse order), and the pictures taken."""

    def __init__(self, work: Path, out: Path, lang: str) -> None:
        self.work = work
        self.out = out
        self.lang = lang
        self.t = Titles(lang)
        self.stack = contextlib.ExitStack()
        self.processes: list[Process] = []
        self.screens: list[Screen] = []
        self.written: list[Path] = []
        self.session_started = 0.0

    def start(self, argv: list[str], name: str, env: dict[str, str], **kw: Any) -> Process:
        process = Process(argv, self.work / f"{name}.log", env, **kw)
        self.keep(process)
        return process

    def screen(self, name: str) -> Screen:
        screen = Screen(name, self.work, self.lang)
        self.screens.append(screen)
        self.stack.callback(screen.stop)
        return screen

    def keep(self, process: Process) -> Process:
        self.processes.append(process)
        self.stack.callback(process.stop)
        return process

    def shot(self, screen: Screen, name: str, region: tuple[int, int, int, int]) -> None:
        self.written.append(screen.shot(self.out / f"{name}.png", region))

    def shot_window(self, screen: Screen, name: str, wid: str) -> None:
        self.shot(screen, name, screen.frame(wid))

    def host(self, *args: str) -> str:
        argv = python_module("apps.host.main", "--data-dir", str(self.work / "host"), *args)
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
        if done.returncode != 0:
            raise ShotError(f"telework-host {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def host_status(self) -> dict[str, Any]:
        status: dict[str, Any] = json.loads(self.host("status", "--json"))
        return status

    # -- the steps ---------------------------------------------------------------------------

    def run(self) -> None:
        t = self.t
        log("starting the relay and the demo municipality …")
        relay = DemoRelay(self.work / "relay", self.work)
        relay.start()
        self.stack.callback(relay.stop)
        assert relay.process is not None
        self.processes.append(relay.process)
        relay.manage("tenant", "add", TENANT)
        staff = relay.manage("user", "add", "--tenant", TENANT, STAFF)
        admin = relay.manage("admin", "add", "--tenant", TENANT, ADMIN)
        token = str(relay.manage("host-token", "--tenant", TENANT)["token"])

        log("starting the office and home displays …")
        office = self.screen("office")
        tray = Desktop(office.x, self.work / "office")
        self.stack.callback(tray.stop)
        self.processes += tray.processes
        desk = self.start(python_module("apps.demo.desktop"), "desktop", office.env())
        desk_window = office.window(desk, lambda title: True, "the office desktop")
        home = self.screen("home")
        self.start(["openbox"], "home-openbox", home.env())
        wait_for(lambda: home.wm_ready(), 20, "openbox on the home display")

        host_id, agent = self.enrol(relay, office, token)
        relay.manage("grant", "--tenant", TENANT, STAFF, host_id)
        viewer, states, device_code = self.refused_viewer(relay, home, host_id, staff)
        self.register_home_pc(office, tray, agent, device_code)
        self.office, self.desk_window = office, desk_window
        office.activate(desk_window)  # the staff member's document, for the keys from home
        # The TOTP just used is used up until the app shows the next: a code off a printed
        # sheet of single-use codes, as the staff member might have, does instead.
        sheet = relay.manage("user", "codes", "--tenant", TENANT, "--count", "1", STAFF)
        self.viewer_session(home, viewer, states, str(sheet["codes"][0]))

        log("the admin console …")
        console = Console(home, relay, self.work)
        self.keep(console.process)
        self.stack.callback(console.stop)
        dialog = home.window(console.process, lambda s: t("admin", "login_title") in s,
                             "the console's sign-in dialog")  # fmt: skip
        home.activate(dialog)
        home.type(str(admin["password"]))
        home.keys("Tab")
        home.type(pyotp.TOTP(str(admin["totp_secret"])).now())
        self.shot_window(home, "admin-login", dialog)
        home.keys("Return")
        console.signed_in()
        title = t("admin", "app_title")
        main = home.window(console.process, lambda s: s.startswith(title), "the console window")
        home.place(main, *CONSOLE_WINDOW)
        home.activate(main)
        self.console_tabs(home, console, main, relay, host_id)
        log(f"done: {len(self.written)} pictures in {self.out}")

    def enrol(self, relay: DemoRelay, office: Screen, token: str) -> tuple[str, Process]:
        """The tray app's first-run wizard, with the enrolment code typed in; the host ID."""
        log("the office PC: enrolment wizard …")
        for mac in mac_addresses():  # this machine plays the home PC too, as in ./run
            self.host("allow-mac", mac, "--label", HOME_PC_LABEL[self.lang])
        argv = python_module(
            "apps.host.main", "--data-dir", str(self.work / "host"), "--display",
            office.x.display, "--name", HOST_NAME, "--shutdown-command", "true",
        )  # fmt: skip
        agent = self.start(argv, "host", office.env())
        title = self.t("host", "wizard_title")
        wizard = office.window(agent, lambda s: title in s, "the enrolment wizard")
        code = EnrolmentCode(relay.address, relay.fingerprint, token, TENANT).encode()
        office.activate(wizard)
        office.type(code)  # the code field has the focus: as if pasted from the sheet
        self.shot_window(office, "host-wizard", wizard)
        office.keys("Return")
        wait_for(lambda: self.host_status()["connected"], 30, "the office PC online", agent.tail)
        self.shot_window(office, "host-wizard-done", wizard)
        office.activate(wizard)
        office.keys("Escape")
        office.gone(agent, wizard, "the wizard")
        return str(self.host_status()["host_id"]), agent

    def refused_viewer(
        self, relay: DemoRelay, home: Screen, host_id: str, staff: dict[str, Any]
    ) -> tuple[Process, Path, str]:
        """The viewer, pre-filled, with the OTP typed in: refused, as this home PC is not
        registered on the office PC yet; the viewer, its state file, its home-PC code."""
        log("the viewer: login, refusal …")
        home_dir = self.work / "viewer-home"
        runtime = self.work / "viewer-runtime"
        for d in (home_dir, runtime):
            d.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        env = home.env(
            HOME=str(home_dir), XDG_CONFIG_HOME=str(home_dir / ".config"),
            XDG_CACHE_HOME=str(home_dir / ".cache"),
            XDG_DATA_HOME=str(home_dir / ".local" / "share"), XDG_RUNTIME_DIR=str(runtime),
        )  # fmt: skip
        argv = python_module(
            "apps.viewer.main", "--report-state", "--lang", self.lang,
            "--relay", relay.address, "--relay-fingerprint", relay.fingerprint,
            "--tenant", TENANT, "--user", STAFF, "--host-id", host_id,
        )  # fmt: skip
        states = self.work / "viewer-states.jsonl"
        viewer = self.start(argv, "viewer", env, stdin=True, stdout=states)
        login_title = self.t("viewer", "login_title")
        dialog = home.window(viewer, lambda s: login_title in s, "the viewer's login dialog")
        home.place(dialog, *VIEWER_DIALOG)
        home.activate(dialog)
        home.type(pyotp.TOTP(str(staff["totp_secret"])).now())  # the OTP field has the focus
        self.shot_window(home, "viewer-login", dialog)
        home.keys("Return")
        refused = self.wait_state(viewer, states, "refused", 60)
        if refused.get("reason") != "device_not_registered":
            raise ShotError(f"the viewer was refused for another reason: {refused}")
        self.shot_window(home, "viewer-refused", dialog)
        return viewer, states, str(refused["device_code"])

    def wait_state(
        self, viewer: Process, states: Path, name: str, seconds: float
    ) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for line in states.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):
                    state: dict[str, Any] = json.loads(line)
                    if state.get("state") == name:
                        return state
            if not viewer.alive():
                raise ShotError(f"the viewer exited\n{viewer.tail()}")
            return None

        got: dict[str, Any] = wait_for(found, seconds, f"the viewer's state {name!r}", viewer.tail)
        return got

    def register_home_pc(self, office: Screen, tray: Desktop, agent: Process, code: str) -> None:
        """Tray icon → menu → allowed home PCs: the viewer's home-PC code typed in, added."""
        log("the office PC: tray menu, allowed home PCs …")
        icon: str = wait_for(lambda: tray.docked(agent.pid), 20, "the tray icon", agent.tail)
        before = office.all_windows(agent.pid)
        office.xdotool("mousemove", "--window", icon, "5", "5")
        office.xdotool("click", "3")
        menu: str = wait_for(
            lambda: next(iter(office.all_windows(agent.pid) - before), None), 10, "the tray menu"
        )
        office.keys("Down")  # the first item that can be chosen: allowed home PCs
        mx, my, mw, mh = office.frame(menu)
        ix, iy, iw, ih = office.frame(icon)
        left, top = min(mx, ix) - 40, min(my, iy) - 30
        right, bottom = max(mx + mw, ix + iw) + 10, max(my + mh, iy + ih) + 10
        self.shot(office, "host-tray-menu", (left, top, right - left, bottom - top))
        office.keys("Return")
        title = self.t("host", "macs_title")
        dialog = office.window(
            agent, lambda s: title in s, "the allowed home PCs dialog (opened by Down, Return "
            "in the tray menu: its first item that can be chosen)"
        )  # fmt: skip
        x, y, _, h = office.frame(dialog)
        office.place(dialog, max(0, x - 80), y, HOME_PCS_DIALOG_WIDTH, h)
        office.activate(dialog)
        # The focus starts on the tabs (home-PC codes first): Tab, the list; Tab, the code.
        office.keys("Tab", "Tab")
        office.type(code)
        office.keys("Tab")
        office.type(HOME_PC_LABEL[self.lang])
        office.keys("Tab", "space")  # the Add button

        def registered() -> bool:
            devices = json.loads(self.host("devices", "--json"))["devices"]
            return any(d["code"] == code.replace("-", "") for d in devices)

        wait_for(registered, 10, f"the home-PC code {code} registered through the dialog")
        self.shot_window(office, "host-home-pcs", dialog)
        office.keys("ctrl+Tab")  # the MAC addresses tab
        self.shot_window(office, "host-home-pcs-macs", dialog)
        office.keys("Escape")
        office.gone(agent, dialog, "the allowed home PCs dialog")

    def viewer_session(self, home: Screen, viewer: Process, states: Path, otp: str) -> None:
        """Connect again, with a new one-time password (the one refused is used up), and
        type a line into the office PC's document."""
        log("the viewer: the session …")
        login_title = self.t("viewer", "login_title")
        dialog = home.window(viewer, lambda s: login_title in s, "the viewer's login dialog")
        home.activate(dialog)
        home.type(otp)  # after a refusal the focus is back in the OTP field
        home.keys("Return")
        self.wait_state(viewer, states, "showing", 60)
        self.session_started = time.monotonic()
        session = home.window(viewer, lambda s: login_title not in s, "the session window")
        home.place(session, *VIEWER_WINDOW)
        home.activate(session)
        home.keys("ctrl+End", "Return")
        home.type(VIEWER_TYPES)
        time.sleep(1.5)  # the typing's pictures come back through the relay
        self.shot_window(home, "viewer", session)

    def console_tabs(
        self, home: Screen, console: Console, main: str, relay: DemoRelay, host_id: str
    ) -> None:
        """Each tab of the console, with what an admin does there."""
        log("the admin console's tabs …")
        console.do("staff", "add", NEW_STAFF)  # a new staff member: their QR code shows
        self.shot_window(home, "admin-staff", main)
        console.do("staff", "issue_codes", STAFF, 5)
        self.shot_window(home, "admin-staff-codes", main)
        console.do("hosts", "new_token", relay_address=relay.address)
        self.shot_window(home, "admin-hosts", main)
        console.do("grants", "grant", NEW_STAFF, host_id)
        self.shot_window(home, "admin-grants", main)
        label = HOME_PC_LABEL[self.lang]
        console.do("home_pcs", "register", mac_addresses()[0], "login", STAFF, label)
        self.shot_window(home, "admin-home-pcs", main)
        console.do("policies")
        self.shot_window(home, "admin-policies", main)
        console.do("sessions")
        self.shot_window(home, "admin-live-sessions", main)
        console.do("usage")
        self.shot_window(home, "admin-usage", main)
        console.do("audit")
        self.shot_window(home, "admin-audit", main)
        # The bandwidth chart: a minute or so of the session, with some work in it.
        while time.monotonic() < self.session_started + CHART_SPAN_S:
            self.office_work()
            time.sleep(CHART_STEP_S)
        console.do("monitoring")
        self.shot_window(home, "admin-monitoring", main)

    def office_work(self) -> None:
        """Someone at work on the office PC (a line typed into its document), which the
        session carries to the viewer: the bandwidth chart shows it."""
        self.office.activate(self.desk_window)
        self.office.keys("ctrl+End", "Return")
        self.office.type(f"{time.strftime('%H:%M:%S')} ...")

    # -- the end -----------------------------------------------------------------------------

    def close(self) -> list[str]:
        """Stop everything, in reverse order; what is still running after that (killed)."""
        self.stack.close()
        left = []
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, 0)  # its process group: the process and its children
                left.append(process.log.stem)
                os.killpg(process.pid, signal.SIGKILL)
        for screen in self.screens:
            xvfb = screen.x._xvfb.process
            if xvfb.poll() is None:
                left.append(f"Xvfb {screen.x.display}")
                xvfb.kill()
                xvfb.wait()
        return left


def check_tools() -> None:
    tools = (*Desktop.TOOLS, "Xvfb", "xdotool", "xclip")
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise SystemExit(
            f"screenshots.py needs {', '.join(missing)} "
            "(Debian: apt-get install xvfb xdotool xclip openbox trayer x11-utils fonts-noto-cjk)"
        )


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end the run as Ctrl+C does: with everything stopped."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_console"]:
        return _console(argv[1:])
    parser = argparse.ArgumentParser(
        prog="docs/screenshots.py", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--lang", choices=("ja", "en"), default="ja", help="default: ja")
    parser.add_argument(
        "--out", type=Path, help="where the PNGs go (default docs/images, or docs/images/en)"
    )
    parser.add_argument(
        "--keep-work", action="store_true", help="keep the work directory (logs) afterwards"
    )
    args = parser.parse_args(argv)
    check_tools()
    out: Path = args.out or (OUT_DIR if args.lang == "ja" else OUT_DIR / args.lang)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="telework-shots-"))
    started = time.monotonic()
    run = Run(work, out.resolve(), args.lang)
    status = 1
    try:
        with stop_on_signals():
            try:
                run.run()
                status = 0
            except RigError as exc:
                print(f"screenshots.py: {exc}", file=sys.stderr)
            except KeyboardInterrupt:
                print("screenshots.py: interrupted", file=sys.stderr)
            finally:
                log("stopping everything …")
                left = run.close()
                if left:
                    print(f"screenshots.py: had to kill {left}", file=sys.stderr)
                    status = status or 1
    finally:
        if args.keep_work or status:
            print(f"logs: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"{'finished' if status == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
