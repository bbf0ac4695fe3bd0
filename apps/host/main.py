"""``telework-host``: the office PC's agent, in the tray or headless, and its scripting commands.

    telework-host [--data-dir DIR] [--relay HOST:PORT --relay-fingerprint SHA256]
                  [--enroll TOKEN] [--headless] [--shutdown-command CMD] ...
    telework-host --data-dir DIR allow-mac MAC [--label TEXT]
    telework-host --data-dir DIR deny-mac MAC
    telework-host --data-dir DIR macs [--json]
    telework-host --data-dir DIR allow-device CODE|any [--label TEXT]
    telework-host --data-dir DIR deny-device CODE|any
    telework-host --data-dir DIR devices [--json]
    telework-host --data-dir DIR pin-signing-key FINGERPRINT
    telework-host --data-dir DIR status [--json]

``status`` reads the status file the running agent keeps in DIR (rewritten atomically on
every change); when the agent is not running it says so (``connected`` false, ``running`` false).
``allow-device`` registers a home PC by the code its viewer shows (``telework-viewer
--device-code``); the office PC accepts sessions only from registered home PCs. ``allow-device
any`` switches that check off (any home PC passes it; the OTP and MAC checks still apply) and
``deny-device any`` switches it back on. ``devices`` also lists the home PCs the tenant's admins
registered centrally (marked so): those count only once ``pin-signing-key`` (or an enrolment code
that carries it) has pinned the fingerprint of the tenant's signing key, which the admin console
shows; re-pinning another key drops the central list signed by the old one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from apps.common.enrolment_code import looks_like_code, parse_code
from apps.common.preset import load_preset
from apps.host.agent import HostAgent, stop_agent
from apps.host.central_devices import CentralDevices
from apps.host.device_list import DeviceList
from apps.host.i18n import tr
from apps.host.mac_list import MacList
from apps.host.options import AgentOptions
from apps.host.store import DataDir, default_data_dir, process_alive
from core.crypto.certs import format_host_id
from core.errors import Error
from core.hostpolicy.devices import ANY_DEVICE, format_device_code, parse_device_code
from core.hostpolicy.signed_devices import group_key_fingerprint
from core.syslog import SyslogConfigError, parse_destination
from transport.client import RefusedByRelay

log = logging.getLogger("telework.host")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
HOST_PRESET_FILE = "host.json"  # apps.common.preset: beside the program, /etc/telework, ProgramData


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telework-host", description=tr("app_description"))
    parser.add_argument("--data-dir", type=Path, default=None, help="agent data directory")
    parser.add_argument("--relay", help="relay address HOST:PORT")
    parser.add_argument("--relay-fingerprint", help="relay certificate SHA-256 fingerprint")
    parser.add_argument(
        "--enroll",
        metavar="TOKEN",
        help="enrolment token from the admin, or the whole enrolment code (TWENROLL...), which "
        "also gives the relay, its fingerprint and the municipality's signing key to pin",
    )
    parser.add_argument("--headless", action="store_true", help="run without the tray")
    parser.add_argument("--name", help="this PC's name as the admin sees it")
    parser.add_argument(
        "--shutdown-command",
        help="command run at the scheduled shutdown (default: the OS's power-off)",
    )
    parser.add_argument("--display", help="X display to show and control (default $DISPLAY)")
    parser.add_argument("--monitor", type=int, default=1, help="monitor shown first (from 1)")
    parser.add_argument(
        "--allow-take-over", action="store_true", help="a new login ends the live session"
    )
    parser.add_argument("--view-only", action="store_true", help="never inject input")
    parser.add_argument(
        "--syslog",
        metavar="URL",
        help="also send this PC's session log (start, end, refusals) to a syslog collector: "
        "tls://HOST[:PORT] or udp://HOST[:PORT] (unencrypted)",
    )
    parser.add_argument("--syslog-ca", type=Path, metavar="FILE", help="the collector's CA (PEM)")
    parser.add_argument(
        "--syslog-fingerprint", metavar="SHA256", help="instead: its certificate fingerprint"
    )
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command")
    allow = sub.add_parser("allow-mac", help="register a home PC's MAC address")
    allow.add_argument("mac")
    allow.add_argument("--label", default="", help="a name for the device, shown to the user")
    deny = sub.add_parser("deny-mac", help="remove a registered MAC address")
    deny.add_argument("mac")
    macs = sub.add_parser("macs", help="list registered MAC addresses")
    macs.add_argument("--json", action="store_true")
    allow_device = sub.add_parser("allow-device", help="register a home PC by its code")
    allow_device.add_argument("code", help="the code the viewer shows, or 'any'")
    allow_device.add_argument("--label", default="", help="a name for the home PC")
    deny_device = sub.add_parser("deny-device", help="remove a registered home PC")
    deny_device.add_argument("code", help="its code, or 'any'")
    devices = sub.add_parser("devices", help="list registered home PCs")
    devices.add_argument("--json", action="store_true")
    pin = sub.add_parser(
        "pin-signing-key", help="trust home PCs the tenant's admins register centrally"
    )
    pin.add_argument("fingerprint", help="the tenant signing key's fingerprint (64 hex digits)")
    status = sub.add_parser("status", help="what the agent is doing")
    status.add_argument("--json", action="store_true")
    return parser


def options_from(args: argparse.Namespace) -> AgentOptions:
    options = AgentOptions(data_dir=args.data_dir or default_data_dir())
    options.relay = args.relay
    options.relay_fingerprint = args.relay_fingerprint
    preset = load_preset(HOST_PRESET_FILE)  # the installer's defaults for enrolment
    options.preset_relay = preset.get("relay")
    options.preset_fingerprint = preset.get("fingerprint")
    if args.name:
        options.name = args.name
    if args.shutdown_command:
        options.shutdown_command = AgentOptions.parse_command(args.shutdown_command)
    options.display = args.display
    options.monitor = args.monitor
    options.allow_take_over = args.allow_take_over
    options.inject = not args.view_only
    if args.syslog:
        ca_pem = args.syslog_ca.read_text(encoding="ascii") if args.syslog_ca else None
        options.syslog = parse_destination(
            args.syslog, ca_pem=ca_pem, fingerprint=args.syslog_fingerprint
        )
    return options


def read_status(data_dir: Path) -> dict[str, Any]:
    """The agent's status as ``status --json`` prints it."""
    data = DataDir(data_dir)
    record = data.load_record()
    status = data.read_status() or {}
    running = bool(status) and process_alive(int(status.get("pid", 0)))
    out: dict[str, Any] = {
        "host_id": record.host_id if record else None,
        "relay": status.get("relay") or (record.relay if record else None),
        "connected": bool(running and status.get("connected")),
        "session": status.get("session") if running else None,
        "running": running,
        "state": status.get("state", "not_enrolled" if record is None else "offline")
        if running
        else ("not_enrolled" if record is None else "stopped"),
        "paused": bool(running and status.get("paused")),
    }
    return out


def _command(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or default_data_dir()
    macs = MacList(data_dir)
    if args.command == "allow-mac":
        entry = macs.allow(args.mac, args.label)
        print(tr("mac_added", mac=entry.mac))
    elif args.command == "deny-mac":
        if not macs.deny(args.mac):
            print(tr("mac_not_found", mac=args.mac), file=sys.stderr)
            return EXIT_ERROR
        print(tr("mac_removed", mac=args.mac.upper()))
    elif args.command == "macs":
        entries = macs.load()
        if args.json:
            print(json.dumps([{"mac": e.mac, "label": e.label} for e in entries]))
        else:
            for e in entries:
                print(f"{e.mac}  {e.label}".rstrip())
    elif args.command in ("allow-device", "deny-device", "devices"):
        return _device_command(args, DeviceList(data_dir), CentralDevices(data_dir))
    elif args.command == "pin-signing-key":
        pinned = CentralDevices(data_dir).pin(args.fingerprint)
        print(tr("tenant_key_pinned", fingerprint=group_key_fingerprint(pinned)))
    elif args.command == "status":
        status = read_status(data_dir)
        if args.json:
            print(json.dumps(status, ensure_ascii=False))
        else:
            host = format_host_id(status["host_id"]) if status["host_id"] else "-"
            print(f"{tr('host_id')}: {host}")
            print(f"{tr('relay')}: {status['relay'] or '-'}")
            print(f"{tr('state')}: {tr('state_' + status['state'])}")
    return EXIT_OK


def _device_command(args: argparse.Namespace, devices: DeviceList, central: CentralDevices) -> int:
    """``allow-device``, ``deny-device`` and ``devices``: the home PCs registered by key."""
    if args.command == "devices":
        registry = devices.load()
        signed = central.load(DataDir(central.data_dir).load_record())
        central_devices = signed.devices if signed else ()
        if args.json:
            listed = registry.to_json()
            listed["central"] = [{"code": d.code, "label": d.label} for d in central_devices]
            listed["central_serial"] = signed.serial if signed else None
            print(json.dumps(listed, ensure_ascii=False))
            return EXIT_OK
        for d in registry.devices:
            print(f"{format_device_code(d.code)}  {d.label}".rstrip())
        for d in central_devices:
            print(f"{format_device_code(d.code)}  {d.label}  ({tr('device_central')})")
        if registry.accept_any:
            print(tr("devices_any_accepted"))
        return EXIT_OK
    if args.code.strip().lower() == ANY_DEVICE:
        devices.set_accept_any(args.command == "allow-device")
        print(tr("devices_any_accepted" if args.command == "allow-device" else "devices_any_off"))
    elif args.command == "allow-device":
        entry = devices.allow(args.code, args.label)
        print(tr("device_added", code=format_device_code(entry.code)))
    elif not devices.deny(args.code):
        print(tr("device_not_found", code=args.code), file=sys.stderr)
        return EXIT_ERROR
    else:
        print(tr("device_removed", code=format_device_code(parse_device_code(args.code))))
    return EXIT_OK


def enrolment_from(options: AgentOptions, given: str) -> tuple[str, str | None]:
    """The token and the signing key to pin from ``--enroll``: a bare token, or a whole
    enrolment code (then its relay and fingerprint too, unless given on the command line)."""
    if not looks_like_code(given):
        return given, None
    code = parse_code(given)  # EnrolmentCodeError (a ValueError) if it is damaged
    options.relay = options.relay or code.relay
    options.relay_fingerprint = options.relay_fingerprint or code.fingerprint
    return code.token, code.tenant_key or None


async def run_headless(options: AgentOptions, token: str | None) -> int:
    agent = HostAgent(options)
    if agent.record is None:
        if not token:
            print(tr("need_enrolment"), file=sys.stderr)
            return EXIT_USAGE
        token, tenant_key = enrolment_from(options, token)
        host_id = await agent.enroll(token, tenant_key)
        print(tr("enrolled_host_id"))
        print(f"\n    {format_host_id(host_id)}\n", flush=True)
    task = asyncio.create_task(agent.run())
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def stop() -> None:  # as the tray's Quit: the session's clean-up runs before the agent stops
        if not stopping:
            stopping.append(asyncio.create_task(stop_agent(agent, task)))

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for stopper in stopping:
        await stopper
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command:
            return _command(args)
        options = options_from(args)
        if args.display:
            os.environ["DISPLAY"] = args.display  # pynput reads it
        if args.headless:
            return asyncio.run(run_headless(options, args.enroll))
        from apps.host.tray import run_tray

        return run_tray(options, args.enroll)
    except RefusedByRelay as exc:
        print(tr("refused", reason=tr.refusal(exc.reason)), file=sys.stderr)
        return EXIT_ERROR
    except SyslogConfigError as exc:
        print(tr("bad_syslog", reason=exc), file=sys.stderr)
        return EXIT_ERROR
    except Error as exc:
        print(f"telework-host: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, ValueError) as exc:
        print(f"telework-host: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
