"""The host agent headless against a real relay on loopback and a real X display (Xvfb).

Time-dependent rules (idle timeout, allowed hours, scheduled shutdown) run on a fake clock the
test advances; the relay's timeouts are scaled down; nothing sleeps for real time it could skip.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from apps.host.agent import IDENTITY_STEM, HostAgent
from apps.host.events import AgentState
from apps.host.main import read_status
from core.crypto.certs import generate_identity, host_id_for_certificate
from core.hostpolicy.devices import device_code, format_device_code
from core.media.decoder import H264Decoder
from core.media.encoder import VideoPacket
from core.media.frames import Monitor as CaptureMonitor
from core.policy import HoursSpan
from core.protocol.control import RefusalReason
from core.protocol.notices import (
    CloseReason,
    IdleWarning,
    SessionPolicy,
    ShutdownWarning,
    parse_host_screens,
    parse_notice,
)
from core.protocol.session import (
    Button,
    Close,
    Key,
    KeyframeRequest,
    Modifier,
    MouseButton,
    Notice,
    Pointer,
    ScreenInfo,
    Video,
)
from desktop.capture import ScreenCapture
from storage.identity import load_or_create_identity
from tests.integration.half_logins import (
    leave_before_securing,
    present_another_device,
    stall_securing,
)
from tests.integration.host.conftest import (
    HOME_MAC,
    HOME_PC,
    SCREEN,
    Viewer,
    agent_options,
    start_host,
)
from tests.integration.relay_harness import TENANT, login, wait_until
from tests.xlib import pointer_position
from transport.client import RefusedByRelay

pytestmark = pytest.mark.x11


async def refused(rig, host_id, macs=(HOME_MAC,)) -> str:
    with pytest.raises(RefusedByRelay) as caught:
        viewer = await Viewer.connect(rig, host_id, macs)
        viewer.close()
    return caught.value.reason


async def test_enrolment_creates_identity_secret_and_status(rig, tmp_path, clock, xdisplay):
    host = await start_host(rig, tmp_path, clock, xdisplay)
    try:
        data = tmp_path / "host"
        host_id = host.agent.host_id
        assert host_id and host_id in rig.relay.server.hosts
        for name in ("host.key", "host.secret", "host.json"):
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
        assert json.loads((data / "host.json").read_text())["host_id"] == host_id
        status = read_status(data)
        assert status["host_id"] == host_id and status["connected"] and status["session"] is None
        assert status["relay"] == str(rig.relay.endpoint)
        # The CLI reads the same file while the agent runs.
        out = subprocess.run(
            [sys.executable, "-m", "apps.host.main", "--data-dir", str(data), "status", "--json"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        cli = json.loads(out.stdout)
        assert {k: cli[k] for k in ("host_id", "relay", "connected", "session")} == {
            "host_id": host_id,
            "relay": str(rig.relay.endpoint),
            "connected": True,
            "session": None,
        }
    finally:
        await host.stop()
    assert read_status(tmp_path / "host")["connected"] is False


async def test_session_carries_the_xvfb_screen_and_injects_input(
    rig, tmp_path, clock, xdisplay, x_recorder
):
    host = await start_host(rig, tmp_path, clock, xdisplay, policy={"watermark": True})
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        screens = parse_host_screens(await viewer.next(ScreenInfo))
        assert screens.host_name == "PC-01" and screens.monitors[0].width == SCREEN[0]
        policy = parse_notice(await viewer.next(Notice))
        assert isinstance(policy, SessionPolicy) and not policy.view_only
        assert "tanaka" in policy.watermark and "PC-01" in policy.watermark
        assert host.agent.status()["session"]["device"] == "Tanaka home PC"

        # Video: decode until the picture matches what is on the screen.
        decoder = H264Decoder()
        with ScreenCapture(CaptureMonitor(1), display=xdisplay) as capture:
            truth = capture.grab().astype(np.int16)
        first = await viewer.next(Video)
        assert first.keyframe and (first.width, first.height) == SCREEN
        error = 255.0
        video = first
        for _ in range(60):
            out = decoder.decode(
                VideoPacket(video.data, video.seq, 0, video.keyframe, video.width, video.height)
            )
            assert not out.need_keyframe
            if out.image is not None:
                error = float(np.abs(out.image[..., :3].astype(np.int16) - truth[..., :3]).mean())
                if error < 6:
                    break
            video = await viewer.next(Video)
        assert error < 6, f"decoded picture differs from the screen by {error:.1f} on average"
        red = out.image[200, 320, :3]
        assert red[2] > 150 and red[0] < 80  # BGRA: the red rectangle is red

        # Pointer: absolute, in picture pixels (same size here).
        await viewer.send(Pointer(321, 123))
        await wait_until(lambda: pointer_position(xdisplay) == (321, 123))
        # A click and key presses reach the X client under the pointer.
        await viewer.send(Button(MouseButton.LEFT, True, 700, 500))
        await viewer.send(Button(MouseButton.LEFT, False, 700, 500))
        for keysym in (0x61, 0xFF2A, 0xFF23, 0xFF22, 0xFF27):  # a 半角/全角 変換 無変換 カタカナ
            await viewer.send(Key(True, keysym, 0, 0))
            await viewer.send(Key(False, keysym, 0, 0))
        # Shift+a, as the contract sends it (lower-case keysym, Shift held), types a capital.
        await viewer.send(Key(True, 0xFFE1, 0, 0))
        await viewer.send(Key(True, 0x61, 0, Modifier.SHIFT))
        await viewer.send(Key(False, 0x61, 0, Modifier.SHIFT))
        await viewer.send(Key(False, 0xFFE1, 0, 0))
        expected = [
            "button 1 700 500",
            "key a",
            "key Zenkaku_Hankaku",
            "key Henkan_Mode",  # 0xFF23: Henkan and Henkan_Mode are one keysym
            "key Muhenkan",
            "key Hiragana_Katakana",
            "key Shift_L",
            "key A",
        ]
        try:
            await wait_until(lambda: _lines(x_recorder)[-8:] == expected, timeout=10)
        except AssertionError:
            raise AssertionError(f"X client saw {_lines(x_recorder)}") from None
        await viewer.send(KeyframeRequest(first.seq))
        assert (await viewer.next(Video, where=lambda m: m.keyframe)).keyframe
        await viewer.send(Close(CloseReason.VIEWER_QUIT))
        await wait_until(lambda: host.agent.session is None)
    finally:
        viewer.close()
        await host.stop()


def _lines(path):
    return [line for line in path.read_text().splitlines() if line != "ready"]


async def test_unregistered_home_pc_is_refused(rig, tmp_path, clock):
    host = await start_host(rig, tmp_path, clock, inject=False)
    try:
        reason = await refused(rig, host.agent.host_id, macs=("02:00:00:00:00:99",))
        assert reason == RefusalReason.MAC_NOT_REGISTERED
        # A central list from the admin that lacks the registered MAC refuses it too.
        await rig.relay.server.push_policy(
            host.agent.host_id, {"allowed_macs": ["02:00:00:00:00:01"]}
        )
        await wait_until(lambda: host.agent.pushed_policy.allowed_macs is not None)
        assert await refused(rig, host.agent.host_id) == RefusalReason.MAC_NOT_REGISTERED
        host.agent.set_paused(True)
        assert await refused(rig, host.agent.host_id) == RefusalReason.HOST_PAUSED
    finally:
        await host.stop()


async def test_outside_allowed_hours_is_refused(rig, tmp_path, clock):
    clock.wall_now = dt.datetime(2024, 4, 1, 22, 30)  # Monday evening
    hours = {"allowed_hours": {"days": ["mon", "tue"], "start": "08:30", "end": "18:00"}}
    host = await start_host(rig, tmp_path, clock, policy=hours, inject=False)
    try:
        await wait_until(lambda: host.agent.pushed_policy.allowed_hours is not None)
        assert await refused(rig, host.agent.host_id) == RefusalReason.OUTSIDE_HOURS
        with pytest.raises(RefusedByRelay) as caught:  # and the viewer is told the hours
            (await Viewer.connect(rig, host.agent.host_id, (HOME_MAC,))).close()
        assert caught.value.hours == (HoursSpan("mon", "tue", 8 * 60 + 30, 18 * 60),)
    finally:
        await host.stop()


async def test_second_login_is_refused_as_busy(rig, tmp_path, clock, xdisplay):
    host = await start_host(rig, tmp_path, clock, xdisplay, inject=False)
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        await viewer.next(ScreenInfo)
        assert await refused(rig, host.agent.host_id) == RefusalReason.HOST_BUSY
    finally:
        viewer.close()
        await host.stop()


async def test_a_session_an_admin_ends_closes_with_that_reason(rig, tmp_path, clock, xdisplay):
    host = await start_host(rig, tmp_path, clock, xdisplay, inject=False)
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        await viewer.next(ScreenInfo)
        (session_id,) = rig.relay.server.sessions
        assert rig.relay.server.end_session(session_id, CloseReason.ENDED_BY_ADMIN.value)
        close = await viewer.next(Close)  # from the office PC, before the relay cuts
        assert close.reason == CloseReason.ENDED_BY_ADMIN
        await wait_until(lambda: host.agent.session is None)
    finally:
        viewer.close()
        await host.stop()


async def test_idle_session_is_warned_then_disconnected(rig, tmp_path, clock, xdisplay):
    host = await start_host(rig, tmp_path, clock, xdisplay, policy={"idle_timeout_s": 300})
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        policy = parse_notice(await viewer.next(Notice))
        assert policy.idle_timeout_s == 300
        clock.advance(250)
        warning = parse_notice(await viewer.next(Notice))
        assert isinstance(warning, IdleWarning) and warning.seconds_left == 50
        clock.advance(60)
        close = await viewer.next(Close)
        assert close.reason == CloseReason.IDLE_TIMEOUT
        await wait_until(lambda: host.agent.session is None)
        # The cut holds: the office PC told the relay, which ended the ticket (an OTP next).
        with pytest.raises(RefusedByRelay) as again:
            await login(
                rig.relay, host.agent.host_id, "", HOME_PC, resume_ticket=viewer.resume_ticket
            )
        assert again.value.reason == RefusalReason.BAD_RESUME_TICKET
    finally:
        viewer.close()
        await host.stop()


async def test_scheduled_shutdown_warns_then_runs_the_command(rig, tmp_path, clock, xdisplay):
    clock.wall_now = dt.datetime(2024, 4, 1, 17, 45)
    policy = {"shutdown_at": "18:00", "shutdown_warning_min": 10}
    host = await start_host(rig, tmp_path, clock, xdisplay, policy=policy, inject=False)
    viewer = await Viewer.connect(rig, host.agent.host_id)
    try:
        await viewer.next(Notice)  # the session policy
        clock.advance(5 * 60 + 30)  # 17:50:30
        warning = parse_notice(await viewer.next(Notice))
        assert warning == ShutdownWarning("18:00", 10)
        assert not host.shutdown_marker.exists()
        clock.advance(9 * 60 + 30)  # 18:00
        close = await viewer.next(Close)
        assert close.reason == CloseReason.SHUTDOWN
        await wait_until(lambda: host.shutdown_marker.exists(), timeout=10)
        assert host.agent.shutdowns == 1
    finally:
        viewer.close()
        await host.stop()


async def test_host_reconnects_after_the_relay_restarts(rig, tmp_path, clock):
    host = await start_host(rig, tmp_path, clock, inject=False)
    try:
        host_id = host.agent.host_id
        await rig.restart(tmp_path)
        await wait_until(lambda: not host.agent.connected, timeout=5)
        await wait_until(
            lambda: host_id in rig.relay.server.hosts and host.agent.connected, timeout=10
        )
        assert read_status(tmp_path / "host")["connected"]
        assert await refused(rig, host_id, macs=("02:00:00:00:00:99",)) == "mac_not_registered"
    finally:
        await host.stop()


# Scaled down so a viewer that stalls the end-to-end handshake frees the host quickly.
E2E_TIMEOUT_S = 1.0


def _client_log(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "telework.client"]


@pytest.mark.parametrize(
    ("fail_start", "logged"),
    [
        (leave_before_securing, "PeerGone"),
        (stall_securing, "PeerGone"),
        (present_another_device, "PinMismatch"),
    ],
)
async def test_an_accepted_session_that_never_starts_leaves_the_host_free(
    rig, tmp_path, clock, xdisplay, caplog, fail_start, logged
):
    caplog.set_level(logging.INFO, logger="telework.client")
    host = await start_host(
        rig, tmp_path, clock, xdisplay, inject=False, e2e_timeout_s=E2E_TIMEOUT_S
    )
    # The half logins come from fresh home PCs: this test is about what follows an accepted
    # offer, so the office PC accepts any home PC's key here.
    host.agent.devices.set_accept_any(True)
    try:
        host_id = host.agent.host_id
        await fail_start(rig.relay, host_id, [HOME_MAC])
        # The host's offer task says how it failed, in a log line rather than an exception
        # nobody retrieves; by then the host has let go of the accepted session.
        await wait_until(lambda: bool(_client_log(caplog)), timeout=E2E_TIMEOUT_S + 4)
        assert logged in _client_log(caplog)[0]
        assert host.agent.session is None
        viewer = await Viewer.connect(rig, host_id)  # accepted, not refused as host_busy
        try:
            await viewer.next(ScreenInfo)
        finally:
            viewer.close()
        # Let the session wind down before the agent stops: its end, too, must leave no
        # exception unretrieved.
        await wait_until(lambda: host.agent.session is None)
        assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
    finally:
        await host.stop()


async def test_an_enrolment_whose_answer_was_lost_can_be_done_again(rig, tmp_path, clock):
    data = tmp_path / "host"
    options = agent_options(rig, data, None, tmp_path / "marker")
    # The relay enrolled this PC's key, but the answer never arrived (the line dropped).
    lost = load_or_create_identity(data, IDENTITY_STEM, options.name)
    lost_token = rig.relay.directory.issue_enrollment_token(TENANT, 600, time.time())
    lost_id = host_id_for_certificate(lost.cert_der)
    rig.relay.directory.redeem_enrollment_token(
        lost_token, lost_id, lost.cert_pem.decode(), "PC", "test", time.time()
    )
    agent = HostAgent(options, clock=clock.monotonic, wall=clock.wall)
    bad = "not-a-token"
    with pytest.raises(RefusedByRelay):
        await agent.enroll(bad)
    assert (data / "host.key").read_bytes() == lost.key_pem  # a failed try changes nothing
    token = rig.relay.directory.issue_enrollment_token(TENANT, 600, time.time())
    host_id = await agent.enroll(token)
    assert agent._pending_stream is not None
    await agent._pending_stream.close()  # the link run() would take over as its control channel
    assert host_id != lost_id
    assert host_id_for_certificate(load_or_create_identity(data, IDENTITY_STEM, "x").cert_der) == (
        host_id
    )


async def test_an_office_pc_whose_credential_is_refused_stops_retrying_and_says_why(
    rig, tmp_path, clock
):
    """Retired by an admin: the relay refuses its credential. Knocking again cannot help, so
    the agent stays in the error state (tray and status file say why) and stops connecting."""
    host = await start_host(rig, tmp_path, clock, inject=False)
    host.agent.backoff.first_s = host.agent.backoff.max_s = 0.05  # would retry at once
    try:
        host_id = host.agent.host_id
        rig.relay.directory.retire_host(TENANT, host_id)
        await rig.restart(tmp_path)
        await wait_until(lambda: host.agent.state is AgentState.ERROR, timeout=10)
        assert host.agent.detail == RefusalReason.BAD_HOST_CREDENTIAL
        refusals = rig.relay.server.metrics.refusals
        tried = refusals[RefusalReason.BAD_HOST_CREDENTIAL]
        await asyncio.sleep(0.5)  # ten retry delays
        assert refusals[RefusalReason.BAD_HOST_CREDENTIAL] == tried == 1
        assert read_status(tmp_path / "host")["state"] == "error"
        assert not host.task.done()  # waiting for someone to act, not crashed
    finally:
        await host.stop()


async def test_only_a_registered_home_pc_key_gets_a_session(rig, tmp_path, clock):
    """The office PC accepts a session only from a home PC whose code is on its own list, and
    the end-to-end handshake proves the viewer holds that key. Removing it ends the next
    connection; switching the check off ('any') lets any home PC pass it."""
    host = await start_host(rig, tmp_path, clock, inject=False)
    try:
        host_id = host.agent.host_id
        stranger = generate_identity("someone-elses-pc")
        with pytest.raises(RefusedByRelay) as caught:
            await Viewer.connect(rig, host_id, device=stranger)
        assert caught.value.reason == RefusalReason.DEVICE_NOT_REGISTERED

        host.agent.devices.allow(format_device_code(device_code(stranger.cert_pem)), "spare PC")
        viewer = await Viewer.connect(rig, host_id, device=stranger)
        await viewer.next(ScreenInfo)
        viewer.close()
        await wait_until(lambda: host.agent.session is None)

        host.agent.devices.deny(device_code(stranger.cert_pem))
        with pytest.raises(RefusedByRelay) as caught:
            await Viewer.connect(rig, host_id, device=stranger)
        assert caught.value.reason == RefusalReason.DEVICE_NOT_REGISTERED

        host.agent.devices.set_accept_any(True)
        viewer = await Viewer.connect(rig, host_id, device=stranger)
        await viewer.next(ScreenInfo)
        viewer.close()
    finally:
        await host.stop()


async def test_with_no_home_pc_registered_nobody_gets_in(rig, tmp_path, clock):
    host = await start_host(rig, tmp_path, clock, inject=False)
    try:
        host.agent.devices.deny(device_code(HOME_PC.cert_pem))
        assert host.agent.devices.load().devices == ()
        with pytest.raises(RefusedByRelay) as caught:
            await Viewer.connect(rig, host.agent.host_id)
        assert caught.value.reason == RefusalReason.DEVICE_NOT_REGISTERED
    finally:
        await host.stop()


async def test_a_relay_that_offers_its_own_home_pc_key_is_refused_by_the_office_pc(
    rig, tmp_path, clock
):
    """A compromised relay takes a real staff login (valid OTP, registered home PC) and offers
    the office PC a session for a key of its own, to take the screen itself. The offer names a
    key the office PC has not registered: refused, and the audit log says why. (Offering the
    staff member's key while presenting another in the end-to-end handshake fails that
    handshake instead: test_an_accepted_session_that_never_starts_leaves_the_host_free.)"""
    host = await start_host(rig, tmp_path, clock, inject=False)
    channels = rig.relay.server.channels
    honest_ask = channels.ask
    operators_key = generate_identity("relay-operator")

    async def ask_for_the_operators_key(channel, offer, who):
        forged = dataclasses.replace(offer, device_cert=operators_key.cert_pem.decode())
        return await honest_ask(channel, forged, who)

    channels.ask = ask_for_the_operators_key
    try:
        with pytest.raises(RefusedByRelay) as caught:
            await Viewer.connect(rig, host.agent.host_id)  # the staff member's real login
        assert caught.value.reason == RefusalReason.DEVICE_NOT_REGISTERED
        assert host.agent.session is None
        (refusal,) = rig.relay.directory.list_audit(event="login_refused")
        assert refusal.detail["reason"] == RefusalReason.DEVICE_NOT_REGISTERED
    finally:
        channels.ask = honest_ask
        await host.stop()
