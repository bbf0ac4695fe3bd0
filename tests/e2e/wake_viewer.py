"""A home PC's login that asks to wake its office PC, on the viewer's own protocol code: a login
with a one-time password (refused: the office PC is off, with a ticket), then a login with that
ticket and ``wake``, through to the end-to-end channel with the office PC's agent.

    python -m tests.e2e.wake_viewer --relay HOST:PORT --fingerprint FP --tenant T --user U \\
        --host-id ID --otp 123456 --mac 02:00:00:00:00:01 --key-dir DIR

Prints one JSON object per event (``refused``, ``progress``, ``joined``) with the seconds since
the start. ``--device-code`` prints the code of the key in ``--key-dir`` (to register it on the
office PC first) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from core.crypto.certs import Identity, generate_identity
from core.hostpolicy.devices import device_code, format_device_code
from core.protocol.control import Login, ProgressStage
from transport.client import RefusedByRelay, viewer_login
from transport.connect import RelayEndpoint, parse_host_port


def _device(key_dir: Path) -> Identity:
    """The home PC's key, kept in ``key_dir`` between runs (the office PC registers its code)."""
    cert, key = key_dir / "device.crt", key_dir / "device.key"
    if cert.exists():
        return Identity(cert.read_bytes(), key.read_bytes())
    key_dir.mkdir(parents=True, exist_ok=True)
    identity = generate_identity("home-pc")
    cert.write_bytes(identity.cert_pem)
    key.write_bytes(identity.key_pem)
    return identity


def _say(started: float, event: str, **fields: object) -> None:
    line = {"event": event, "t": round(time.monotonic() - started, 2), **fields}
    print(json.dumps(line), flush=True)


async def _run(args: argparse.Namespace) -> int:
    device = _device(args.key_dir)
    host, port = parse_host_port(args.relay)
    endpoint = RelayEndpoint(host, port, fingerprint=args.fingerprint)
    started = time.monotonic()

    def login(otp: str, ticket: str = "", wake: bool = False) -> Login:
        cert = device.cert_pem.decode()
        return Login(args.tenant, args.user, otp, args.host_id, cert, [args.mac], ticket, {}, wake)

    try:
        await viewer_login(endpoint, login(args.otp), device)
        _say(started, "joined", woken=False)
        return 1  # the office PC was not off
    except RefusedByRelay as refused:
        _say(started, "refused", reason=refused.reason, ticket=bool(refused.resume_ticket))
        ticket = refused.resume_ticket

    def progress(stage: ProgressStage) -> None:
        _say(started, "progress", stage=stage.value)

    try:
        channel, ok = await viewer_login(endpoint, login("", ticket, wake=True), device, progress)
    except RefusedByRelay as refused:
        _say(started, "refused", reason=refused.reason, ticket=bool(refused.resume_ticket))
        return 1
    channel.close()
    _say(started, "joined", woken=True, session_id=ok.session_id)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for option in ("--relay", "--fingerprint", "--tenant", "--user", "--host-id", "--otp"):
        parser.add_argument(option, default="")
    parser.add_argument("--mac", default="02:00:00:00:00:01")
    parser.add_argument("--key-dir", type=Path, required=True)
    parser.add_argument("--device-code", action="store_true")
    args = parser.parse_args()
    if args.device_code:
        print(format_device_code(device_code(_device(args.key_dir).cert_pem)))
        return
    raise SystemExit(asyncio.run(_run(args)))


if __name__ == "__main__":
    main()
