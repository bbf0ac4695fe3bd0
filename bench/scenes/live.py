"""Live corpus scenes: real office programs on a private Xvfb, driven by xdotool on a timeline.

Each corpus module (``calc``, ``writer``, ``browser``, ``pdf``, ``desktop_switch``) describes its
scenes as data: the content it generates, the programs it starts with the window that shows each
is ready, and a timeline of steps at fixed times. This module does the rest for all of them: the
1920x1080 display, the window manager, a session bus, a fresh HOME (so LibreOffice and Firefox
start with new profiles and no first-run pages), the input method when a scene asks for one,
bounded waits, playing the timeline in a thread while ``bench/bandwidth.py`` captures the
display, and stopping every process it started.

What the timeline does is recorded as :class:`Event` s with the focused window's rectangle at
that moment, so the bench measures recovery from the scene's own switches and scrolls and judges
"legible" inside the window the user is looking at.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apps.common.xvfb import VirtualDisplay, start_xvfb

WIDTH, HEIGHT = 1920, 1080
READY_TIMEOUT_S = 90.0  # LibreOffice's first start with a fresh profile takes ~10-20 s here
READY_POLL_S = 0.5
SETTLE_S = 4.0  # after the last window appears: programs finish painting before t = 0
COMMAND_TIMEOUT_S = 120.0  # one xdotool call (typing a long phrase) or a content conversion
# xdotool waits this long between keys, half after the press and half after the release:
# 300 ms gives about 7 keys a second, a steady typist.
TYPE_DELAY_MS = 300
BUS_START_TIMEOUT_S = 10.0
IME_READY_S = 3.0  # fcitx5 and mozc load their add-ons before the first program starts
# A scene's last switch or scroll comes at least this long before its end, so that it can get
# crisp again (and be measured) before the capture stops.
STEADY_MARGIN_S = 10.0
# Events after which the bench measures how soon the screen is crisp again.
BIG_KINDS = ("switch", "scroll", "page")
SETUP_COMMAND = "./run bench-setup"

Rect = tuple[int, int, int, int]


class SceneError(Exception):
    """A scene could not be set up or played (a program missing, a window that never came)."""


@dataclass(frozen=True)
class Event:
    """One timeline step as played: when (s from capture start), what, and the focused window."""

    at: float
    kind: str
    focus: Rect | None


@dataclass(frozen=True)
class Step:
    """Do ``action`` at ``at`` seconds; ``kind`` in BIG_KINDS marks a change the bench times."""

    at: float
    action: Callable[[Desk], None]
    kind: str = "input"


@dataclass(frozen=True)
class Program:
    """A program to start (argv built from the scene's work dir) and the window title it shows."""

    argv: Callable[[Path], list[str]]
    window: str  # a regular expression for the window's name (xdotool search --name)


@dataclass(frozen=True)
class Scene:
    name: str
    description: str
    duration_s: float
    programs: list[Program]
    timeline: list[Step]
    make_content: Callable[[Path], None] = lambda _: None
    commands: tuple[str, ...] = ()  # programs that must be installed (besides the common ones)
    ime: bool = False  # start fcitx5 with mozc and route the programs' input through it
    maximize: bool = True  # openbox maximizes every normal window
    arrange: Callable[[Desk], None] | None = None  # place windows after they appear


# --- actions for timelines: each returns what a Step does ---

Action = Callable[["Desk"], None]


def press(*keys: str, gap_ms: int = 150) -> Action:
    """Press key combinations (xdotool names: "ctrl+Home", "Page_Down") ``gap_ms`` apart."""

    def act(desk: Desk) -> None:
        desk.xdotool("key", "--delay", str(gap_ms), *keys)

    return act


def typing(text: str, delay_ms: int = TYPE_DELAY_MS) -> Action:
    return lambda desk: desk.type(text, delay_ms)


def scroll(notches: int, x: int = WIDTH // 2, y: int = HEIGHT // 2) -> Action:
    return lambda desk: desk.wheel(notches, x, y)


IME_TOGGLE = "ctrl+space"  # fcitx5's default trigger key
IME_SHOW_S = 1.2  # how long the conversion and the candidate window stay before the next key


def ime_phrase(romaji: str) -> Action:
    """Type romaji into mozc, convert (Space), open the candidate window (Space again: mozc
    shows its list on the second candidate), go back to the first (Up) and commit (Return)."""

    def act(desk: Desk) -> None:
        desk.type(romaji)
        for k in ("space", "space", "Up", "Return"):
            time.sleep(IME_SHOW_S)
            desk.xdotool("key", k)

    return act


def activate(index: int) -> Action:
    """Bring the scene's ``index``-th program window to the front (as a taskbar click would)."""
    return lambda desk: desk.activate(desk.windows[index])


COMMON_COMMANDS = ("Xvfb", "openbox", "xdotool", "dbus-daemon")
IME_COMMANDS = ("fcitx5",)


def missing_commands(scene: Scene) -> list[str]:
    wanted = COMMON_COMMANDS + scene.commands + (IME_COMMANDS if scene.ime else ())
    missing = [c for c in wanted if shutil.which(c) is None]
    if scene.ime and not Path("/usr/lib/mozc/mozc_server").exists():
        missing.append("mozc_server (fcitx5-mozc)")
    return missing


@dataclass
class Desk:
    """The running scene's display: programs, input and window queries, all with bounded waits."""

    display: str
    home: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    windows: list[str] = field(default_factory=list)  # each program's window, in start order

    def spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        account = unprivileged_account()
        if account is not None:
            hand_over(self.home, account)
        log = (self.home / "logs" / f"{Path(argv[0]).name}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends it and its children
            user=account[0] if account else None,
            group=account[1] if account else None,
            extra_groups=[] if account else None,
        )
        log.close()
        self.processes.append(process)
        return process

    def xdotool(self, *args: str) -> str:
        result = subprocess.run(
            ["xdotool", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        return result.stdout.strip()

    def key(self, *keys: str) -> None:
        self.xdotool("key", "--clearmodifiers", *keys)

    def type(self, text: str, delay_ms: int = TYPE_DELAY_MS) -> None:
        """Type ``text``; each newline is a Return key (xdotool's own newline is not one)."""
        for i, line in enumerate(text.split("\n")):
            if i:
                self.xdotool("key", "Return")
            if line:
                self.xdotool("type", "--delay", str(delay_ms), line)

    def click(self, x: int, y: int, button: int = 1, repeat: int = 1) -> None:
        self.xdotool("mousemove", str(x), str(y), "click", "--repeat", str(repeat), str(button))

    def wheel(self, notches: int, x: int = WIDTH // 2, y: int = HEIGHT // 2) -> None:
        """Scroll ``notches`` wheel clicks down (negative: up) with the pointer at (x, y)."""
        button = 5 if notches > 0 else 4
        self.xdotool(
            "mousemove", str(x), str(y), "click", "--repeat", str(abs(notches)), "--delay",
            "60", str(button),
        )  # fmt: skip

    def find_window(self, pattern: str) -> str | None:
        ids = self.xdotool("search", "--onlyvisible", "--name", pattern).split()
        return ids[-1] if ids else None

    def wait_window(self, pattern: str, timeout_s: float = READY_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            wid = self.find_window(pattern)
            if wid:
                return wid
            for p in self.processes:
                if p.poll() not in (None, 0):
                    raise SceneError(f"{p.args[0]} exited with {p.returncode} (see {self.home})")
            time.sleep(READY_POLL_S)
        raise SceneError(f"no window named /{pattern}/ within {timeout_s:.0f} s")

    def activate(self, wid: str) -> None:
        self.xdotool("windowactivate", "--sync", wid)

    def place(self, wid: str, rect: Rect) -> None:
        # No --sync: a window that draws its own frame (Evince) never lands exactly where asked,
        # and xdotool would wait for it forever; the scene settles before t = 0 anyway.
        # LibreOffice restores itself maximized, and a maximized window takes no new size: the
        # scene's openbox binds UNMAXIMIZE_KEY to its Unmaximize action.
        x, y, w, h = rect
        self.activate(wid)
        self.xdotool("key", UNMAXIMIZE_KEY)
        self.xdotool("windowsize", wid, str(w), str(h))
        self.xdotool("windowmove", wid, str(x), str(y))

    def active_rect(self) -> Rect | None:
        """The focused window's rectangle on screen, clipped to it; None when nothing has focus."""
        out = self.xdotool("getactivewindow", "getwindowgeometry", "--shell")
        values = dict(line.split("=", 1) for line in out.split() if "=" in line)
        try:
            x, y, w, h = (int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        except (KeyError, ValueError):
            return None
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(WIDTH, x + w), min(HEIGHT, y + h)
        return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


class LiveScene:
    """Set up a corpus scene on its own display; ``play`` runs its timeline in a thread.

    Use as a context manager: entering starts everything and waits until the programs are ready,
    leaving stops every process the scene started (by process group) and removes its HOME."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.events: list[Event] = []
        self._xvfb: VirtualDisplay | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._thread: threading.Thread | None = None
        self.desk: Desk | None = None

    @property
    def display(self) -> str:
        assert self.desk is not None
        return self.desk.display

    def __enter__(self) -> LiveScene:
        missing = missing_commands(self.scene)
        if missing:
            raise SceneError(
                f"scene {self.scene.name!r} needs {', '.join(missing)}: run {SETUP_COMMAND}"
            )
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"scene-{self.scene.name}-")
        home = Path(self._tmp.name)
        (home / "logs").mkdir()
        (home / "content").mkdir()
        self.scene.make_content(home / "content")
        self._xvfb = start_xvfb(WIDTH, HEIGHT, start_new_session=True)
        env = scene_env(self._xvfb.display, home, ime=self.scene.ime)
        write_desktop_settings(home, maximize=self.scene.maximize)
        desk = self.desk = Desk(self._xvfb.display, home, env)
        env["DBUS_SESSION_BUS_ADDRESS"] = start_bus(desk)
        desk.spawn(["openbox", "--config-file", str(home / ".config/openbox/rc.xml")])
        if self.scene.ime:
            desk.spawn(["fcitx5", "--disable", "notificationitem,clipboard,cloudpinyin"])
            time.sleep(IME_READY_S)
        for program in self.scene.programs:
            desk.spawn(program.argv(home / "content"))
            desk.windows.append(desk.wait_window(program.window))
        if self.scene.arrange is not None:
            self.scene.arrange(desk)
        time.sleep(SETTLE_S)
        desk.xdotool("mousemove", str(WIDTH - 1), str(HEIGHT // 2))  # out of the way

    def play(self, t0: float) -> None:
        """Start the timeline: step times count from ``t0`` (a ``time.perf_counter`` value)."""
        assert self.desk is not None
        desk = self.desk
        self.events = [Event(0.0, "start", desk.active_rect())]

        def run() -> None:
            for step in self.scene.timeline:
                delay = t0 + step.at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                step.action(desk)
                # A burst (three Page_Downs) counts from its end: "crisp again after the scroll".
                done = time.perf_counter() - t0
                self.events.append(Event(round(done, 3), step.kind, desk.active_rect()))

        self._thread = threading.Thread(target=run, name=f"scene-{self.scene.name}", daemon=True)
        self._thread.start()

    def finish(self) -> list[Event]:
        """Wait for the timeline's last step and return what was played."""
        if self._thread is not None:
            self._thread.join(COMMAND_TIMEOUT_S)
        return list(self.events)

    def stop(self) -> None:
        if self.desk is not None:
            for process in reversed(self.desk.processes):
                stop_group(process)
        if self._xvfb is not None:
            self._xvfb.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


SCENE_USER = "nobody"  # programs run as this account when the bench runs as root


def unprivileged_account() -> tuple[int, int] | None:
    """(uid, gid) to run the scene's programs as, or None to run them as we are.

    mozc_server refuses to start as root (it exits with 255), and office programs have no
    business running as root either; Xvfb listens without authorisation, so any user can
    draw on it."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SCENE_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def hand_over(home: Path, account: tuple[int, int]) -> None:
    """Give the scene's HOME (profiles, content, logs) to the account its programs run as."""
    for path in [home, *home.rglob("*")]:
        # A program already running there renames its temporary files away as we walk.
        with contextlib.suppress(FileNotFoundError):
            if path.lstat().st_uid != account[0]:
                os.chown(path, *account, follow_symlinks=False)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """End a program and the children it started in its own process group."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their leader
    except ProcessLookupError:
        pass
    process.wait()


def scene_env(display: str, home: Path, *, ime: bool) -> dict[str, str]:
    drop = ("QT_QPA_PLATFORM", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "WAYLAND_DISPLAY")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    env.update(
        DISPLAY=display,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_RUNTIME_DIR=str(runtime),
        LANG="C.UTF-8",
        NO_AT_BRIDGE="1",
        SAL_USE_VCLPLUGIN="gtk3",  # LibreOffice through GTK: its input method module and settings
        MOZ_CRASHREPORTER_DISABLE="1",
    )
    if ime:
        env.update(GTK_IM_MODULE="fcitx", QT_IM_MODULE="fcitx", XMODIFIERS="@im=fcitx")
    return env


def start_bus(desk: Desk) -> str:
    """A private session bus (fcitx5, GTK and LibreOffice talk over it); returns its address."""
    address = f"unix:path={desk.home / 'runtime' / 'bus'}"
    desk.spawn(["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address={address}"])
    deadline = time.monotonic() + BUS_START_TIMEOUT_S
    while not (desk.home / "runtime" / "bus").exists():
        if time.monotonic() > deadline:
            raise SceneError("the session bus did not start")
        time.sleep(0.05)
    return address


GTK_SETTINGS = """[Settings]
gtk-cursor-blink=false
gtk-enable-animations=false
gtk-font-name=Noto Sans CJK JP 10
"""

FCITX_PROFILE = """[Groups/0]
Name=Default
Default Layout=us
DefaultIM=mozc

[Groups/0/Items/0]
Name=keyboard-us
Layout=

[Groups/0/Items/1]
Name=mozc
Layout=

[GroupOrder]
0=Default
"""

# Openbox's rule for every normal window: maximized (one program filling the screen), or not
# (a desk of overlapping windows; LibreOffice would otherwise restore itself maximized).
MAXIMIZE_RULE = """<applications>
  <application class="*" type="normal"><maximized>{}</maximized></application>
"""


UNMAXIMIZE_KEY = "super+F12"
UNMAXIMIZE_BINDING = """<keyboard>
  <keybind key="W-F12"><action name="Unmaximize"/></keybind>
"""


def write_desktop_settings(home: Path, *, maximize: bool) -> None:
    """GTK without caret blink or animations, openbox's own rc.xml, and fcitx5's mozc profile:
    what is measured is the work, not a blinking caret."""
    config = home / ".config"
    for sub in ("gtk-3.0", "openbox", "fcitx5"):
        (config / sub).mkdir(parents=True, exist_ok=True)
    (config / "gtk-3.0" / "settings.ini").write_text(GTK_SETTINGS)
    rc = Path("/etc/xdg/openbox/rc.xml").read_text(encoding="utf-8")
    rule = MAXIMIZE_RULE.format("yes" if maximize else "no")
    rc = re.sub(r"<applications>\s*", rule, rc, count=1)
    rc = re.sub(r"<keyboard>\s*", UNMAXIMIZE_BINDING, rc, count=1)
    (config / "openbox" / "rc.xml").write_text(rc, encoding="utf-8")
    (config / "fcitx5" / "profile").write_text(FCITX_PROFILE)


# --- the programs, each with a fresh profile ---

LIBREOFFICE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Setup/Office"><prop oor:name="ooSetupInstCompleted" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Setup/Product"><prop oor:name="ooSetupLastVersion" oor:op="fuse"><value>99.0</value></prop></item>
<item oor:path="/org.openoffice.Office.Recovery/AutoSave"><prop oor:name="Enabled" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseOpenCL" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""  # noqa: E501 -- LibreOffice's own one-line-per-item format


def libreoffice(*args: str) -> Callable[[Path], list[str]]:
    """soffice with a fresh user profile beside the content: no tips, no what's-new bar."""

    def argv(content: Path) -> list[str]:
        profile = content.parent / "libreoffice"
        (profile / "user").mkdir(parents=True, exist_ok=True)
        (profile / "user" / "registrymodifications.xcu").write_text(LIBREOFFICE_SETTINGS)
        return [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--norestore",
            "--nologo",
            "--nodefault",
            *(str(content / a) if (content / a).exists() else a for a in args),
        ]

    return argv


FIREFOX_PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "",
    "startup.homepage_override_url": "",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.firstRunURL": "",
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.auto": False,
    "browser.sessionstore.resume_from_crash": False,
    "browser.tabs.warnOnClose": False,
    "general.smoothScroll": False,
    "toolkit.cosmeticAnimations.enabled": False,
    "ui.prefersReducedMotion": 1,
    "ui.caretBlinkTime": 0,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.translations.enable": False,
    "extensions.autoDisableScopes": 15,
}


def firefox(page: str) -> Callable[[Path], list[str]]:
    """Firefox ESR on a local page with a fresh profile: no first-run, no smooth scrolling."""

    def argv(content: Path) -> list[str]:
        profile = content.parent / "firefox"
        profile.mkdir(exist_ok=True)
        lines = [
            f"user_pref({name!r}, {str(v).lower() if isinstance(v, bool) else repr(v)});"
            for name, v in FIREFOX_PREFS.items()
        ]
        (profile / "user.js").write_text("\n".join(lines).replace("'", '"') + "\n")
        return ["firefox-esr", "--no-remote", "--profile", str(profile), (content / page).as_uri()]

    return argv
