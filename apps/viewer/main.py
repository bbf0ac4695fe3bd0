"""``telework-viewer``: the home PC's viewer.

    telework-viewer [--relay HOST:PORT] [--relay-fingerprint SHA256] [--tenant T]
                    [--user LOGIN] [--host-id ID] [--config viewer.json]
                    [--lang ja|en] [--report-state] [--otp-stdin]

Options pre-fill the login dialog; what is still missing is asked for, then the one-time
password. ``--report-state`` prints one JSON line per state change to stdout; ``--otp-stdin``
reads the OTP as the first line of stdin (for scripts; never put an OTP on a command line),
and a later line ``quit`` ends the session as the window's close button would.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
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
from storage.identity import load_or_create_identity

DEVICE_COMMON_NAME = "telework-viewer"


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
    return parser.parse_args(argv)


class _LoopDoor:
    """Lets the stdin thread hand calls to the loop only while it runs: once the app has
    finished, the loop (and Qt under it) is being torn down, and a call from another thread
    then could abort the process."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._open = True

    def call(self, callback: Callable[..., object], *args: object) -> None:
        with self._lock:
            if self._open:
                self._loop.call_soon_threadsafe(callback, *args)

    def close(self) -> None:
        with self._lock:
            self._open = False


def _read_stdin(app: object, door: _LoopDoor, otp_first: bool) -> None:
    """Stdin lines to the app, on the loop's thread: the OTP first (if asked), then 'quit'."""
    first = otp_first
    for line in sys.stdin:
        text = line.strip()
        if first:
            first = False
            door.call(app.submit_otp, text)  # type: ignore[attr-defined]
        elif text == "quit":
            door.call(app.quit)  # type: ignore[attr-defined]
    door.call(app.quit)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    import qasync
    from PySide6.QtWidgets import QApplication

    from apps.common.qt_startup import start_app
    from apps.viewer.app import ViewerApp, json_reporter

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
        )
        app.finished.connect(done.set)
        app.start()
        door = _LoopDoor(loop)
        if args.otp_stdin or args.report_state:
            threading.Thread(
                target=_read_stdin, args=(app, door, args.otp_stdin), daemon=True
            ).start()
        loop.run_until_complete(done.wait())
        door.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
