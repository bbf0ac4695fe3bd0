"""A starting host agent releases the keys and buttons an earlier, killed agent left held."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.integration.host.conftest import start_host
from tests.xlib import held_input

pytestmark = pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")


async def test_a_starting_agent_releases_what_a_dead_one_left_held(rig, tmp_path, clock, xdisplay):
    # Held through XTest by a client that is gone, as a SIGKILLed agent leaves them.
    env = {**os.environ, "DISPLAY": xdisplay}
    subprocess.run(["xdotool", "keydown", "ctrl+shift", "mousedown", "1"], env=env, check=True)
    keys, buttons = held_input(xdisplay)
    assert len(keys) == 2 and buttons

    host = await start_host(rig, tmp_path, clock, xdisplay)
    try:
        assert held_input(xdisplay) == (set(), 0)
    finally:
        await host.stop()
