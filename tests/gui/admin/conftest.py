"""The admin console under Qt's offscreen platform, driven on a qasync loop, against a real relay
(with its admin API) running on its own loop in a background thread."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # these tests import the shared relay helpers under tests/
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def qloop(qapp):
    """A qasync loop on the test's QApplication; tests run console actions to completion on it."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)  # actions spawned by Qt signals between runs go here
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=5))
    asyncio.set_event_loop(None)
    loop.close()


def wait_for(condition, timeout: float = 5.0) -> None:
    """Poll a condition that the relay's thread will make true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
