"""A switched-off office PC, as a LAN sees one: nothing answers until a Wake-on-LAN magic packet
for its MAC arrives; then it "boots" (this process becomes the office PC's agent).

    python -m tests.e2e.sleeper --mac AA:BB:CC:DD:EE:FF -- telework-host ARGS...

Run in the office PC's network namespace. Prints ``woken by ADDRESS`` to stderr before it
becomes the agent, so the test can tell the packet came from the waker's address.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from core.policy import normalise_mac
from core.wake import WAKE_PORTS, woken_mac

PACKET_BYTES = 1024  # a magic packet is 102 bytes (more with a SecureOn password)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mac", required=True)
    parser.add_argument("agent", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    mac = normalise_mac(args.mac)
    agent = args.agent[1:] if args.agent[:1] == ["--"] else args.agent
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", WAKE_PORTS[0]))
        print("asleep", file=sys.stderr, flush=True)
        while True:
            packet, (sender, _) = listener.recvfrom(PACKET_BYTES)
            if woken_mac(packet) == mac:
                break
            print(f"not for me: {woken_mac(packet)}", file=sys.stderr, flush=True)
    print(f"woken by {sender}", file=sys.stderr, flush=True)
    os.execvp(agent[0], agent)


if __name__ == "__main__":
    main()
