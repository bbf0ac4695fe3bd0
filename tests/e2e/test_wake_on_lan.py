"""Wake-on-LAN on a real LAN: office PCs A and B, each in its own network namespace, on one
bridge with the relay; B is switched off (a stand-in that hears nothing but a magic packet for
its MAC, then starts B's agent). A home PC's login to B is refused (B is off); asked to wake it,
the relay has A — which the operator lets wake others — send the packet; B's agent starts, comes
online, and the same login joins it, without a new one-time password.

The agents are the real ``telework-host --headless``: each reports the network card it reaches
the relay through, and A sends the packet with its own socket code. The home PC's side is the
viewer's protocol code (tests/e2e/wake_viewer.py); the viewer's button is tested in tests/gui.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.rig import (
    ROOT,
    Accounts,
    HostAgent,
    Process,
    Relay,
    XServer,
    base_env,
    python_module,
    timeout,
    wait_for,
)

LAN = "10.77.0.0/24"
RELAY_ADDRESS = "10.77.0.1"
PC_A = ("10.77.0.2", "02:77:00:00:00:02")
PC_B = ("10.77.0.3", "02:77:00:00:00:03")
HOME_MAC = "02:00:00:00:00:01"
PREFIX = LAN.split("/")[1]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def namespaces() -> Iterator[dict[str, str]]:
    """Namespaces ``lan`` (the bridge, the relay and the home PC's login), ``a`` and ``b``."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("network namespaces need root and iproute2")
    tag = str(os.getpid())
    names = {"lan": f"twl{tag}", "a": f"twa{tag}", "b": f"twb{tag}"}
    try:
        for name in names.values():
            _ip("netns", "add", name)
            _ip("-n", name, "link", "set", "lo", "up")
        lan = names["lan"]
        _ip("-n", lan, "link", "add", "br0", "type", "bridge")
        _ip("-n", lan, "addr", "add", f"{RELAY_ADDRESS}/{PREFIX}", "dev", "br0")
        _ip("-n", lan, "link", "set", "br0", "up")
        for side, (address, mac) in (("a", PC_A), ("b", PC_B)):
            port, card = f"p{side}", f"e{side}"
            _ip(
                "link",
                "add",
                port,
                "netns",
                lan,
                "type",
                "veth",
                "peer",
                "name",
                card,
                "netns",
                names[side],
            )
            _ip("-n", lan, "link", "set", port, "master", "br0", "up")
            _ip("-n", names[side], "link", "set", card, "address", mac)
            _ip("-n", names[side], "addr", "add", f"{address}/{PREFIX}", "dev", card)
            _ip("-n", names[side], "link", "set", card, "up")
        yield names
    finally:
        for name in names.values():
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


@pytest.fixture
def office_screen_alone() -> Iterator[XServer]:
    screen = XServer(1024, 768)
    yield screen
    screen.stop()


def test_a_switched_off_office_pc_is_woken_by_another_and_joined(
    namespaces, office_screen_alone, tmp_path: Path
):
    screen = office_screen_alone
    relay = Relay(tmp_path / "relay", tmp_path, host=RELAY_ADDRESS)
    relay.start(netns=namespaces["lan"])
    agents: list[HostAgent] = []
    try:
        accounts = Accounts.create(relay)
        connect = ["--relay", relay.address, "--relay-fingerprint", relay.fingerprint]
        for side in ("a", "b"):
            agent = HostAgent(tmp_path / f"pc-{side}", tmp_path, f"PC-{side.upper()}")
            agents.append(agent)
            token = accounts.enrolment_token()
            agent.launch(
                screen, "--headless", *connect, f"--enroll={token}", netns=namespaces[side]
            )
            agent.wait_connected(timeout(60))
        pc_a, pc_b = agents
        home = tmp_path / "home-pc"
        viewer = [*python_module("tests.e2e.wake_viewer"), "--key-dir", str(home)]
        code = subprocess.run(
            [*viewer, "--device-code"],
            capture_output=True, text=True, check=True, timeout=60, env=base_env(), cwd=ROOT,
        ).stdout.strip()  # fmt: skip
        pc_b.allow_device(code)
        pc_b.allow_mac(HOME_MAC)
        accounts.grant(accounts.user, pc_b.host_id)
        relay.manage("can-wake", "--tenant", accounts.tenant, pc_a.host_id)

        pc_b.stop()  # switched off for the night
        pc_b.launch(
            screen,
            "--headless",
            *connect,
            netns=namespaces["b"],
            before=(*python_module("tests.e2e.sleeper", "--mac", PC_B[1]), "--"),
        )
        asleep = pc_b.work / f"host-{pc_b.name}.log"
        wait_for(lambda: "asleep" in asleep.read_text(), timeout(30), "B asleep", pc_b.tail)

        login = subprocess.run(
            [
                "ip", "netns", "exec", namespaces["lan"], *viewer,
                "--relay", relay.address, "--fingerprint", relay.fingerprint,
                "--tenant", accounts.tenant, "--user", accounts.user,
                "--host-id", pc_b.host_id, "--otp", accounts.totp_now(), "--mac", HOME_MAC,
            ],
            capture_output=True, text=True, env=base_env(), cwd=ROOT, timeout=timeout(300),
        )  # fmt: skip
        events = [json.loads(line) for line in login.stdout.splitlines()]
        context = f"{events}\n{login.stderr[-3000:]}\nB: {pc_b.tail()}\nrelay: {relay.tail()}"
        assert login.returncode == 0, context
        assert events[0] == {
            "event": "refused",
            "t": events[0]["t"],
            "reason": "host_offline",
            "ticket": True,
        }
        assert any(e.get("stage") == "waking_host" for e in events), context
        joined = events[-1]
        assert joined["event"] == "joined" and joined["woken"], context
        assert f"woken by {PC_A[0]}" in asleep.read_text(), "the packet came from A's card"
        pc_b.wait_connected(timeout(30))

        records = relay.manage("audit", "--tenant", accounts.tenant, "--limit", "200")["records"]
        (wake,) = [r for r in records if r["event"] == "host_wake"]
        assert wake["host_id"] == pc_b.host_id
        assert wake["detail"] == {
            "waker": pc_a.host_id,
            "mac": PC_B[1],
            "lan": f"{PC_B[0]}/{PREFIX}",
        }
        print(json.dumps({"wake_to_joined_s": round(joined["t"] - events[0]["t"], 2)}))
    finally:
        for agent in agents:
            agent.stop()
        relay.stop()


def test_sleeper_stand_in_ignores_other_packets(namespaces, tmp_path: Path):
    """The stand-in is a fair test of the packet: one for another MAC does not wake it."""
    log = tmp_path / "sleeper.log"
    sleeper = Process(
        [*python_module("tests.e2e.sleeper", "--mac", PC_B[1], "--", "true")],
        log,
        base_env(),
        netns=namespaces["b"],
    )
    try:
        wait_for(lambda: "asleep" in log.read_text(), timeout(30), "asleep", sleeper.tail)
        send = (
            "from transport.wake import send_magic_packet as s; import sys; "
            "s(sys.argv[1], '10.77.0.255', sys.argv[2])"
        )
        for mac, heard in (
            ("02:77:00:00:00:09", "not for me: 02:77:00:00:00:09"),
            (PC_B[1], f"woken by {PC_A[0]}"),
        ):
            subprocess.run(
                ["ip", "netns", "exec", namespaces["a"], sys.executable, "-c", send, mac, PC_A[0]],
                check=True, capture_output=True, timeout=60, env=base_env(), cwd=ROOT,
            )  # fmt: skip
            wait_for(lambda: heard in log.read_text(), timeout(10), heard, sleeper.tail)  # noqa: B023
            assert ("woken" in log.read_text()) == (mac == PC_B[1])
    finally:
        sleeper.stop()
