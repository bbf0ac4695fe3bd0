"""Waking the office PC: after "office PC offline" with a ticket, the refusal offers
「職場PCを起動する」; pressing it logs in again with the ticket and ``wake``, the status says how
long the office PC has been starting, and the session opens as any other. The relay is
scripted here (its wake flow is tested on the relay's side): what is checked is what the
viewer sends and shows."""

from __future__ import annotations

import asyncio
import time

import pytest

from apps.viewer import client as client_module
from core.protocol.control import Login, LoginOk, ProgressStage, RefusalReason
from tests.gui.viewer.conftest import TEXTS
from transport.client import RefusedByRelay

WAKE_BUTTON = "Wake my office PC"


class MovableClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


class ParkedChannel:
    """A session channel on which nothing comes until it is closed."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()

    async def read(self) -> bytes:
        await self.gone.wait()
        return b""

    async def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        self.gone.set()


class ScriptedRelay:
    """``viewer_login`` as a relay whose office PC is off: a login without ``wake`` is refused
    HOST_OFFLINE with a ticket; with it, the relay says it is waking the PC, then answers what
    the test decides (``outcome``: a LoginOk, or a refusal to raise)."""

    def __init__(self) -> None:
        self.logins: list[Login] = []
        self.woken = asyncio.Event()
        self.outcome: LoginOk | RefusedByRelay = LoginOk("session-1", "ticket-3", 300)
        self.channel = ParkedChannel()

    async def __call__(self, endpoint, login: Login, device, on_progress):
        self.logins.append(login)
        on_progress(ProgressStage.CONNECTING_TO_RELAY)
        if not login.wake:
            raise RefusedByRelay(RefusalReason.HOST_OFFLINE, resume_ticket="ticket-1")
        on_progress(ProgressStage.WAKING_HOST)
        await self.woken.wait()
        if isinstance(self.outcome, RefusedByRelay):
            raise self.outcome
        return self.channel, self.outcome


@pytest.fixture
def relay(app, monkeypatch) -> ScriptedRelay:
    scripted = ScriptedRelay()
    monkeypatch.setattr(client_module, "viewer_login", scripted)
    app.client.clock = MovableClock()
    return scripted


async def until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def refused_offline(app, relay) -> None:
    app.submit_otp("123456")
    await until(lambda: app.state.get("state") == "refused")


async def test_offline_with_a_ticket_offers_the_wake_and_it_logs_in_with_the_ticket(app, relay):
    await refused_offline(app, relay)
    dialog = app.dialog
    assert app.state["reason"] == RefusalReason.HOST_OFFLINE and app.state["wake_offered"]
    assert dialog.wake_button.isVisibleTo(dialog) and dialog.wake_button.text() == WAKE_BUTTON
    assert "press “Wake my office PC”" in dialog.message.text()

    dialog.wake_button.click()  # the OTP field is empty: the ticket stands in for it
    await until(lambda: app.state.get("stage") == ProgressStage.WAKING_HOST)
    first, wake = relay.logins
    assert (first.otp, first.resume_ticket, first.wake) == ("123456", "", False)
    assert (wake.otp, wake.resume_ticket, wake.wake) == ("", "ticket-1", True)
    assert not dialog.wake_button.isVisibleTo(dialog) and dialog.busy
    assert dialog.progress.text() == (
        "Starting your office PC… (elapsed 0:00; this can take a few minutes)"
    )
    app.client.clock.offset += 95  # the relay's notes come every 10 s; the tick every second
    app._show_waking()
    assert "(elapsed 1:35;" in dialog.progress.text()
    assert app._waking_tick.isActive()

    relay.woken.set()  # the office PC came online: the session opens as any other
    await until(lambda: app.client.login_ok is not None)
    assert app.state == {"state": "progress", "stage": ProgressStage.RECEIVING_SCREEN}
    assert app.window.isVisible() and not app._waking_tick.isActive()
    task = app._task
    await app.client.hang_up()
    await asyncio.wait_for(task, 5)
    assert relay.channel.gone.is_set()


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (RefusalReason.WAKE_UNAVAILABLE, "no other office PC on its network is allowed"),
        (RefusalReason.WAKE_TIMEOUT, "did not start within 4 minutes"),
    ],
)
async def test_a_wake_that_fails_says_why_in_plain_words(app, relay, reason, words):
    await refused_offline(app, relay)
    relay.outcome = RefusedByRelay(reason, resume_ticket="ticket-2")
    app.dialog.wake_button.click()
    await until(lambda: app.state.get("stage") == ProgressStage.WAKING_HOST)
    relay.woken.set()
    await until(lambda: app.state.get("state") == "refused")
    assert app.state["reason"] == reason and "wake_offered" not in app.state
    text = app.dialog.message.text()
    assert words in text and reason not in text
    assert not app.dialog.wake_button.isVisibleTo(app.dialog)
    assert not app._waking_tick.isActive()
    assert app.client.holds_ticket  # the next Connect needs no new OTP either


def test_no_wake_without_a_ticket_nor_for_other_refusals(app):
    app.dialog.set_busy(True)
    app.client.refused.emit("host_offline", 0, (), ())  # no ticket kept
    assert not app.dialog.wake_button.isVisibleTo(app.dialog)
    app.client.plan = client_module.ReconnectPlan.after_refusal("ticket", app.client.clock())
    app.client.refused.emit("host_busy", 0, (), ())
    assert not app.dialog.wake_button.isVisibleTo(app.dialog)
    assert WAKE_BUTTON not in app.dialog.message.text()


def test_the_wake_in_japanese():
    from apps.viewer.texts import Texts

    ja = Texts("ja")
    assert ja("wake_button") == "職場PCを起動する"
    assert ja.progress(ProgressStage.WAKING_HOST, 125) == (
        "職場PCを起動しています… (経過 2:05、数分かかることがあります)"
    )
    assert "4 分以内" in ja.refusal(RefusalReason.WAKE_TIMEOUT)
    assert TEXTS.progress(ProgressStage.WAKING_HOST).startswith("Starting your office PC…")
