"""The admin console under Qt's offscreen platform, driven on a qasync loop, against a real relay
(with its admin API) running on its own loop in a background thread: the relay, the consoles of
a signed-in tenant admin and of an operator, each going ahead with every destructive action it
asks about, and ways to let the console's tasks run."""

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


async def go_ahead(question: str) -> bool:
    """An admin who answers yes to every question before a destructive action."""
    return True


@pytest.fixture
def live(tmp_path):
    from tests.integration.admin.background import RelayThread

    background = RelayThread(tmp_path)
    yield background
    background.stop()


def _signed_in(live, qloop, qtbot, login: str, tenant: str | None, role: str | None = None):
    """The console of a new admin ``login`` (an operator when ``tenant`` is None; else a
    tenant admin, or ``role``), signed in; it answers yes to every question (the questions
    themselves: test_console_feedback.py)."""
    from apps.admin.main import open_console

    password, otp = credentials(live, login, tenant, role)
    window = qloop.run_until_complete(
        open_console(live.admin.url, live.relay.server.fingerprint, login, password, otp)
    )
    qtbot.addWidget(window)
    window.confirm = go_ahead
    return window


def _sign_out(qloop, window) -> None:
    qloop.run_until_complete(window.client.sign_out())
    qloop.run_until_complete(window.client.close())


@pytest.fixture
def console(live, qloop, qtbot):
    from tests.integration.relay_harness import TENANT

    window = _signed_in(live, qloop, qtbot, "alice", TENANT)
    yield window
    _sign_out(qloop, window)


def credentials(live, login: str, tenant: str | None, role: str | None = None) -> tuple[str, str]:
    """A new admin's password and current one-time password."""
    import pyotp

    _, password, secret = live.relay.directory.add_admin(login, tenant, role=role)
    return password, pyotp.TOTP(secret).now()


@pytest.fixture
def auditor(live, qloop, qtbot):
    """The console of TENANT's auditor, who reads everything of it and changes nothing."""
    from tests.integration.relay_harness import TENANT

    window = _signed_in(live, qloop, qtbot, "audrey", TENANT, "auditor")
    yield window
    _sign_out(qloop, window)


@pytest.fixture
def helpdesk(live, qloop, qtbot):
    """The console of TENANT's helpdesk admin: its staff, their one-time passwords."""
    from tests.integration.relay_harness import TENANT

    window = _signed_in(live, qloop, qtbot, "helen", TENANT, "helpdesk")
    yield window
    _sign_out(qloop, window)


@pytest.fixture
def operator(live, qloop, qtbot):
    """The console of an operator (who sees every tenant), on TENANT."""
    from tests.integration.relay_harness import TENANT

    window = _signed_in(live, qloop, qtbot, "root", None)
    window.tenant_box.setCurrentText(TENANT)
    qloop.run_until_complete(settled(window))
    yield window
    _sign_out(qloop, window)


async def until(condition, timeout: float = 5.0) -> None:
    """Let the loop run (the console's tasks, Qt's events) until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def settled(window) -> None:
    await until(lambda: not window._tasks)


def press(tab, key: str) -> None:
    """Click the tab's button labelled with the message ``key``, as a user does."""
    from PySide6.QtWidgets import QPushButton

    from apps.admin.texts import tr

    (button,) = [b for b in tab.findChildren(QPushButton) if b.text() == tr(key)]
    button.click()


async def viewer_session(relay, host_id: str):
    """A viewer's session on the office PC ``host_id``, echoing: its channel and the relay's
    acceptance (with the session's ID)."""
    from tests.integration.relay_harness import login

    channel, ok = await login(relay, host_id, relay.totp_now())
    await channel.write(b"hello")
    await channel.read()
    return channel, ok


@pytest.fixture
def japanese():
    """The console in Japanese for one test, English again after it."""
    from apps.common.i18n import set_language

    set_language("ja")
    yield
    set_language(None)
