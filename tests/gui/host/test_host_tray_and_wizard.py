"""The tray, the MAC editor and the enrolment wizard, driven through their signals."""

from __future__ import annotations

import asyncio
import gc

from PySide6.QtCore import Qt

from apps.common.i18n import set_language
from apps.common.icons import tray_icon
from apps.host.agent import HostAgent, stop_agent
from apps.host.device_list import DeviceList
from apps.host.events import (
    AgentState,
    SessionEnded,
    SessionStarted,
    ShutdownWarning,
    StateChanged,
)
from apps.host.i18n import tr
from apps.host.mac_list import MacList
from apps.host.options import AgentOptions
from apps.host.session_core import SessionInfo
from apps.host.store import DataDir, HostRecord
from apps.host.tray import HomePcsDialog, TrayApp, TrayController
from apps.host.wizard import EnrolmentWizard, group_fingerprint
from core.crypto.certs import generate_identity
from core.hostpolicy.devices import RegisteredDevice, device_code, format_device_code

FINGERPRINT = "ab" * 32
HOST_ID = "ABCDEFGHIJKLMNOPQRST"
STARTED = SessionInfo("s1", "tanaka", "example-city", "Tanaka home PC", "", "2026-04-01T10:00:00")


def test_japanese_and_english():
    # Every message in both languages: tests/unit/test_translations.py.
    set_language("ja")
    assert tr("menu_quit") == "終了" and tr.refusal("mac_not_registered").startswith("この自宅")
    set_language("en")
    assert tr("menu_quit") == "Quit"


def test_icon_and_tooltip_follow_the_agent_state(qtbot, tmp_path):
    tray = TrayController(DeviceList(tmp_path), MacList(tmp_path), HOST_ID)
    assert tray.icon_state == "offline" and "Offline" in tray.tray.toolTip()
    for state in ("waiting", "error", "offline"):
        tray.on_event(StateChanged(AgentState(state)))
        assert tray.icon_state == state
        assert tr("state_" + state) in tray.tray.toolTip()
        assert not tray.tray.icon().isNull()
    assert not tray_icon("in_session").pixmap(32, 32).toImage().isNull()


def test_session_start_and_end_notify_who_and_which_device(qtbot, tmp_path):
    tray = TrayController(DeviceList(tmp_path), MacList(tmp_path))
    with qtbot.waitSignal(tray.notified) as started:
        tray.on_event(SessionStarted(STARTED))
    assert started.args == ["Remote session started", "tanaka connected from Tanaka home PC"]
    tray.on_event(StateChanged(AgentState.IN_SESSION))
    assert tray.icon_state == "in_session" and "tanaka" in tray.tray.toolTip()
    with qtbot.waitSignal(tray.notified) as ended:
        tray.on_event(SessionEnded(STARTED, "idle_timeout"))
    assert ended.args[1] == "tanaka (Tanaka home PC): Disconnected after inactivity"
    with qtbot.waitSignal(tray.notified) as warned:
        tray.on_event(ShutdownWarning("18:00", 5))
    assert "18:00" in warned.args[1]


def test_pause_and_quit_with_confirmation_during_a_session(qtbot, tmp_path):
    tray = TrayController(DeviceList(tmp_path), MacList(tmp_path), HOST_ID)
    tray.on_event(StateChanged(AgentState.WAITING))
    with qtbot.waitSignal(tray.pause_toggled) as paused:
        tray.pause_action.trigger()
    assert paused.args == [True] and tray.icon_state == "paused"
    asked = []
    tray.confirm_quit = lambda user: asked.append(user) or False
    tray.on_event(SessionStarted(STARTED))
    with qtbot.assertNotEmitted(tray.quit_requested):
        tray.quit_action.trigger()
    assert asked == ["tanaka"]
    tray.confirm_quit = lambda user: True
    with qtbot.waitSignal(tray.quit_requested):
        tray.quit_action.trigger()
    tray.on_event(SessionEnded(STARTED, "viewer_quit"))
    tray.confirm_quit = lambda user: asked.append(user) or False
    with qtbot.waitSignal(tray.quit_requested):
        tray.quit_action.trigger()  # no session: no question
    assert asked == ["tanaka"]
    assert "ABCDE-FGHIJ-KLMNO-PQRST" in tray.about_text()


def test_home_pc_editor_adds_and_removes_macs_and_home_pc_codes(qtbot, tmp_path):
    """Tray → allowed home PCs: one tab for the home PCs' codes (their keys), one for their
    MAC addresses; both edit the files the telework-host commands edit."""
    devices, macs = DeviceList(tmp_path), MacList(tmp_path)
    dialog = HomePcsDialog(devices, macs)
    qtbot.addWidget(dialog)
    editor = dialog.macs
    editor.key_edit.setText("not-a-mac")
    with qtbot.assertNotEmitted(editor.changed):
        editor.add_button.click()
    assert editor.error_label.text() == "Not a valid MAC address"
    editor.key_edit.setText("aa-bb-cc-dd-ee-01")
    editor.label_edit.setText("home")
    with qtbot.waitSignal(editor.changed):
        editor.add_button.click()
    assert [e.mac for e in macs.load()] == ["AA:BB:CC:DD:EE:01"]
    assert editor.list.item(0).text() == "AA:BB:CC:DD:EE:01  home"
    editor.list.setCurrentRow(0)
    with qtbot.waitSignal(editor.changed):
        editor.remove_button.click()
    assert macs.load() == [] and editor.list.count() == 0

    editor = dialog.devices
    editor.key_edit.setText("ABCDE")
    with qtbot.assertNotEmitted(editor.changed):
        editor.add_button.click()
    assert editor.error_label.text() == "Not a home-PC code (20 letters and digits)"
    code = device_code(generate_identity("home-pc").cert_pem)
    editor.key_edit.setText(code.lower())
    editor.label_edit.setText("Tanaka")
    with qtbot.waitSignal(editor.changed):
        editor.add_button.click()
    assert devices.load().accepts(code) and editor.error_label.text() == ""
    assert editor.list.item(0).text() == f"{format_device_code(code)}  Tanaka"
    editor.list.setCurrentRow(0)
    with qtbot.waitSignal(editor.changed):
        editor.remove_button.click()
    assert not devices.load().accepts(code)


def test_home_pcs_registered_centrally_are_listed_marked_and_not_removable_here(qtbot, tmp_path):
    devices, macs = DeviceList(tmp_path), MacList(tmp_path)
    local = device_code(generate_identity("own").cert_pem)
    devices.allow(local, "own")
    central = RegisteredDevice(device_code(generate_identity("central").cert_pem), "Sato")
    dialog = HomePcsDialog(devices, macs, central=lambda: (central,))
    qtbot.addWidget(dialog)
    editor = dialog.devices
    texts = [editor.list.item(i).text() for i in range(editor.list.count())]
    assert texts == [
        f"{format_device_code(local)}  own",
        f"{format_device_code(central.code)}  Sato  (registered centrally)",
    ]
    marked = editor.list.item(1)
    assert not marked.flags() & Qt.ItemFlag.ItemIsSelectable
    editor.list.setCurrentRow(1)
    with qtbot.assertNotEmitted(editor.changed):
        editor.remove_button.click()
    assert editor.list.count() == 2


def test_wizard_validates_then_asks_to_enrol_and_shows_the_host_id_large(qtbot):
    wizard = EnrolmentWizard(name="PC-01")
    qtbot.addWidget(wizard)
    wizard.relay_edit.setText("relay.example.lg.jp:8443")
    wizard.fingerprint_edit.setText("12345")
    with qtbot.assertNotEmitted(wizard.enroll_requested):
        wizard.enroll_button.click()
    assert wizard.error_label.text() == "A fingerprint is 64 hexadecimal digits"
    wizard.fingerprint_edit.setText(FINGERPRINT.upper())
    assert wizard.check_value.text() == group_fingerprint(FINGERPRINT)
    with qtbot.assertNotEmitted(wizard.enroll_requested):
        wizard.enroll_button.click()
    assert wizard.error_label.text() == "Enter the enrolment token"
    wizard.token_edit.setText(" tok-123 ")
    with qtbot.waitSignal(wizard.enroll_requested) as requested:
        wizard.enroll_button.click()
    assert requested.args == ["relay.example.lg.jp:8443", FINGERPRINT, "tok-123", "PC-01"]
    assert not wizard.enroll_button.isEnabled()
    wizard.show_failed("bad_enrollment_token")
    assert "Invalid enrolment token" in wizard.error_label.text()
    assert wizard.enroll_button.isEnabled()
    wizard.show_enrolled(HOST_ID)
    assert wizard.pages.currentIndex() == 1
    assert wizard.host_id_label.text() == "ABCDE-FGHIJ-KLMNO-PQRST"
    assert wizard.host_id_label.font().pointSize() >= 24
    with qtbot.waitSignal(wizard.accepted):
        wizard.close_button.click()


def _enrolled_agent(tmp_path):
    """An enrolled agent whose relay does not answer: ``run`` keeps retrying, offline."""
    DataDir(tmp_path).save_enrolment(
        HostRecord(HOST_ID, "demo-city", "127.0.0.1:9", FINGERPRINT, "PC-01"), "secret"
    )
    return HostAgent(AgentOptions(tmp_path, inject=False, reconnect_first_s=60))


async def test_tray_app_keeps_its_tray_and_bridge_alive_across_garbage_collection(qtbot, tmp_path):
    agent = _enrolled_agent(tmp_path)
    app = TrayApp(agent, agent.options, None)
    app.start()
    try:
        gc.collect()  # the wrappers kept only by setProperty were deleted here
        agent._set_state(AgentState.WAITING)
        assert app.tray is not None and app.tray.icon_state == "waiting"
        assert app.run_task is not None and not app.run_task.done()
    finally:
        app.quit()
        await asyncio.wait_for(app.finished.wait(), 10)


async def test_a_failing_listener_neither_stops_the_agent_nor_the_other_listeners(qtbot, tmp_path):
    agent = _enrolled_agent(tmp_path)
    seen = []

    def broken(event):
        raise RuntimeError("Signal source has been deleted")

    agent.listeners += [broken, seen.append]
    run = asyncio.create_task(agent.run())
    await asyncio.sleep(0.1)
    agent._set_state(AgentState.WAITING)
    assert not run.done() and [e.state for e in seen][-1] == "waiting"
    await stop_agent(agent, run)
