"""The README's main command: the demo comes up, a staff member can log in, Ctrl+C stops all."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time

import pyotp
import pytest

from apps.viewer.main import DEVICE_COMMON_NAME
from apps.viewer.settings import DEVICE_STEM, mac_addresses, user_config_dir
from core.protocol.control import Login
from storage.identity import load_or_create_identity
from transport.client import viewer_login
from transport.connect import RelayEndpoint

pytestmark = pytest.mark.x11
DEMO_START_TIMEOUT_S = 90


def _processes_mentioning(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if text in line and "ps -eo" not in line]


@pytest.mark.timeout(180)
def test_demo_comes_up_serves_a_login_and_stops_cleanly(tmp_path):
    data_dir = tmp_path / "demo"
    # The demo registers this PC's viewer key on its office PC: a home of the test's own.
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    demo = subprocess.Popen(
        [sys.executable, "-m", "apps.demo.launcher", "--data-dir", str(data_dir), "--no-apps"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed: list[str] = []
    try:
        deadline = time.monotonic() + DEMO_START_TIMEOUT_S
        assert demo.stdout is not None
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            assert line, "the demo stopped:\n" + "".join(printed)
            printed.append(line)
            if "OTP for tanaka" in line:
                break
        text = "".join(printed)
        relay, fingerprint = re.search(r"relay\s+(\S+)\s+fingerprint (\w+)", text).groups()
        host_id = re.search(r"host ID (\w+)", text)[1]
        secret = re.search(r"TOTP secret\s+(\w+)", text)[1]
        printed_code = re.search(r"OTP for tanaka: (\d{6})", text)[1]
        totp = pyotp.TOTP(secret)
        assert printed_code in {totp.at(time.time() + d) for d in (-30, 0, 30)}

        async def log_in() -> int:
            # The viewer's own key, as the demo's viewer would use it.
            device = load_or_create_identity(user_config_dir(env), DEVICE_STEM, DEVICE_COMMON_NAME)
            login = Login(
                "demo-city",
                "tanaka",
                pyotp.TOTP(secret).now(),
                host_id,
                device.cert_pem.decode(),
                mac_addresses(),
            )
            channel, _ = await viewer_login(RelayEndpoint.parse(relay, fingerprint), login, device)
            first = await channel.read()  # the office PC starts the session: screens, policy…
            channel.close()
            await channel.wait_closed()
            return len(first)

        assert asyncio.run(log_in()) > 0
    finally:
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0
    assert "nothing is left running" in rest
    assert _processes_mentioning(str(data_dir)) == []
