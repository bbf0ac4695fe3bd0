"""``telework-viewer``: the home PC's viewer.

    telework-viewer [--relay HOST:PORT] [--relay-fingerprint SHA256] [--tenant T]
                    [--user LOGIN] [--host-id ID] [--config viewer.json]
                    [--lang ja|en] [--report-state] [--otp-stdin]
    telework-viewer --device-code
    telework-viewer --home-pc-check [--policy policy.json]

Options pre-fill the login dialog; what is still missing is asked for, then the one-time
password. ``--report-state`` prints one JSON line per state change to stdout; ``--otp-stdin``
reads the OTP as the first line of stdin (for scripts; never put an OTP on a command line),
and a later line ``quit`` ends the session as 切断 does once the user says yes (it asks
nobody). ``--home-pc-check`` prints this PC's checks and their results as one JSON object and
exits 0 when every check the policy requires passes (1 when not, 2 for an unreadable policy):
the policy is ``--policy``'s file (a policy as the console saves it), else every check.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from apps.viewer.settings import (
    DEVICE_STEM,
    Settings,
    load_all,
    mac_addresses,
    user_config_dir,
)
from apps.viewer.texts import Texts
from core.hostpolicy.devices import device_code, format_device_code
from storage.identity import load_or_create_identity

DEVICE_COMMON_NAME = "telework-viewer"
STDIN_CHUNK = 4096  # bytes read from stdin at a time (an OTP line, "quit")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="telework-viewer", description=__doc__.splitlines()[0])
    parser.add_argument("--relay", default="", metavar="HOST:PORT")
    parser.add_argument("--relay-fingerprint", default="", metavar="SHA256")
    parser.add_argument("--tenant", default="", help="organisation (tenant) code")
    parser.add_argument("--user", default="", metavar="LOGIN")
    parser.add_argument("--host-id", default="", metavar="ID", help="the office PC's ID")
    parser.add_argument("--config", type=Path, default=None, help="installer config (JSON)")
    parser.add_argument("--lang", choices=("ja", "en"), default=None)
    parser.add_argument("--report-state", action="store_true", help="JSON state lines on stdout")
    parser.add_argument("--otp-stdin", action="store_true", help="read the OTP from stdin")
    parser.add_argument(
        "--device-code",
        action="store_true",
        help="print this home PC's code (to register it on the office PC) and exit",
    )
    parser.add_argument(
        "--home-pc-check",
        action="store_true",
        help="check this home PC, print the results as JSON and exit (0: it would be let in)",
    )
    parser.add_argument(
        "--policy", type=Path, default=None, help="with --home-pc-check: the policy (JSON)"
    )
    return parser.parse_args(argv)


class StdinCommands:
    """Stdin lines to the app, read on the loop's own thread: the OTP first (if asked), then
    'quit'; end of input quits too.

    A reader on the loop, not a thread: a thread blocked on stdin outlives the loop and wakes
    during the interpreter's shutdown, when Qt is being torn down under it. On Windows, where a
    pipe cannot be watched by the loop, a daemon thread hands lines over while the loop runs.
    """

    def __init__(self, app: object, otp_first: bool) -> None:
        self._app = app
        self._otp_pending = otp_first
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        """Take bytes read from stdin; ``b""`` is the end of input."""
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._line(line.decode(errors="replace").strip())
        if not data:
            self._app.quit()  # type: ignore[attr-defined]

    def _line(self, text: str) -> None:
        if self._otp_pending:
            self._otp_pending = False
            self._app.submit_otp(text)  # type: ignore[attr-defined]
        elif text == "quit":
            self._app.quit()  # type: ignore[attr-defined]

    def attach(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """Start reading stdin on ``loop``; returns what stops it."""
        fd = sys.stdin.fileno()
        if sys.platform == "win32":  # not run here: no Windows machine
            stopped = threading.Event()

            def pump() -> None:
                while not stopped.is_set():
                    data = os.read(fd, STDIN_CHUNK)
                    if not stopped.is_set():
                        loop.call_soon_threadsafe(self.feed, data)
                    if not data:
                        return

            threading.Thread(target=pump, daemon=True).start()
            return stopped.set

        def readable() -> None:
            data = os.read(fd, STDIN_CHUNK)
            if not data:
                loop.remove_reader(fd)
            self.feed(data)

        def stop() -> None:
            loop.remove_reader(fd)

        loop.add_reader(fd, readable)
        return stop


def home_pc_code(config_dir: Path) -> str:
    """This home PC's code as people read it: its device key's, the key made if need be."""
    device = load_or_create_identity(config_dir, DEVICE_STEM, DEVICE_COMMON_NAME)
    return format_device_code(device_code(device.cert_pem))


def home_pc_check(policy_file: Path | None) -> int:
    """``--home-pc-check``: print the checks as one JSON object; 0 if the policy lets it in."""
    from apps.viewer.home_check import STRICTEST, check_result, gather
    from core.policy import Policy, PolicyError

    policy = STRICTEST
    if policy_file is not None:
        try:
            policy = Policy.from_dict(json.loads(policy_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, PolicyError) as exc:
            print(f"telework-viewer: --policy {policy_file}: {exc}", file=sys.stderr)
            return 2
    result, passed = check_result(*gather(), policy)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device_code:
        print(home_pc_code(user_config_dir()))
        return 0
    if args.home_pc_check:
        return home_pc_check(args.policy)
    faulthandler.enable()  # a fatal signal (an abort inside Qt) leaves Python's stacks in the log
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    import qasync
    from PySide6.QtWidgets import QApplication

    from apps.common.qt_startup import start_app
    from apps.viewer.app import ViewerApp, json_reporter
    from apps.viewer.home_check import gather_wire

    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qt_app, QApplication)
    texts = Texts(start_app(qt_app, "telework-viewer", args.lang))
    qt_app.setApplicationDisplayName(texts("app_title"))
    config_dir = user_config_dir()
    cli = Settings(args.relay, args.relay_fingerprint, args.tenant, args.user, args.host_id)
    settings = load_all(config_dir, args.config, cli)
    device = load_or_create_identity(config_dir, DEVICE_STEM, DEVICE_COMMON_NAME)
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    with loop:
        done = asyncio.Event()
        app = ViewerApp(
            texts,
            settings,
            config_dir,
            device,
            mac_addresses(),
            report=json_reporter() if args.report_state else None,
            home_check=gather_wire,
        )
        app.finished.connect(done.set)
        app.start()
        stop_reading = (
            StdinCommands(app, args.otp_stdin).attach(loop)
            if args.otp_stdin or args.report_state
            else None
        )
        loop.run_until_complete(done.wait())
        if stop_reading is not None:
            stop_reading()
    return 0


if __name__ == "__main__":
    sys.exit(main())
