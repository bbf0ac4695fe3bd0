"""The office PCs tab makes an enrolment code (with its QR code and a printable sheet) that the
office PC's wizard reads and enrols with: nobody types the relay's fingerprint."""

from __future__ import annotations

import asyncio

import pytest
from conftest import press, settled, until
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrintDialog

from apps.admin.failures import InputMissing
from apps.admin.qr import draw_enrolment_sheet
from apps.admin.tabs.hosts import default_relay_address
from apps.admin.texts import tr
from apps.common.enrolment_code import parse_code
from apps.common.i18n import set_language
from apps.common.qr_scan import decode_qr
from apps.host.wizard import EnrolmentWizard
from tests.gui.admin.test_staff_sheets import PrintDialog
from tests.integration.relay_harness import TENANT, HostAgent
from transport.client import enroll
from transport.connect import RelayEndpoint


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language(None)


def test_the_relay_address_defaults_to_the_apis_host_on_the_relays_port():
    assert default_relay_address("https://relay.example.lg.jp:8444") == "relay.example.lg.jp:8443"
    assert default_relay_address("https://[::1]:8444") == "[::1]:8443"


def test_an_enrolment_code_from_the_console_enrols_an_office_pc_through_the_wizard(
    console, live, qloop, qtbot, tmp_path
):
    run = qloop.run_until_complete
    relay, hosts = live.relay, console.hosts
    assert not hosts.print_button.isEnabled() and hosts.print_sheet(tmp_path / "x.pdf") is None
    assert hosts.relay_address.text() == default_relay_address(console.client.url)
    hosts.relay_address.setText(str(relay.endpoint))  # this test's relay is on a free port
    token = run(hosts.new_token())

    code = parse_code(hosts.code_view.toPlainText())
    assert (code.relay, code.token, code.tenant) == (str(relay.endpoint), token, TENANT)
    assert code.fingerprint == relay.server.fingerprint
    assert decode_qr(hosts.qr) == [hosts.code_view.toPlainText()]
    assert hosts.print_button.isEnabled()
    hosts.copy_code()
    assert QGuiApplication.clipboard().text() == hosts.code_view.toPlainText()

    # The sheet: its QR code carries the code too, and it prints.
    page = QImage(1000, 1414, QImage.Format.Format_RGB32)
    page.fill(QColor("white"))
    painter = QPainter(page)
    draw_enrolment_sheet(painter, QRect(60, 60, 880, 1294), hosts.sheet)
    painter.end()
    assert decode_qr(page) == [hosts.sheet.text]
    pdf = hosts.print_sheet(tmp_path / "sheet.pdf")
    assert pdf is not None and pdf.read_bytes().startswith(b"%PDF")

    # On the office PC: the code pasted, a name given, and the wizard's request enrols it.
    wizard = EnrolmentWizard(name="窓口PC-1")
    qtbot.addWidget(wizard)
    wizard.code_edit.setPlainText(QGuiApplication.clipboard().text())
    with qtbot.waitSignal(wizard.enroll_requested) as requested:
        wizard.enroll_button.click()
    address, pin, secret_token, name = requested.args
    agent = HostAgent(relay)
    endpoint = RelayEndpoint.parse(address, fingerprint=pin)
    stream, enrolled = live.run(enroll(endpoint, secret_token, agent.identity, name, "1.2.3"))
    live.run(stream.close())
    run(hosts.refresh())
    assert [(h["host_id"], h["name"]) for h in hosts.hosts] == [(enrolled.host_id, "窓口PC-1")]


def test_a_relay_address_that_is_not_host_port_is_asked_for_before_any_token(console, qloop):
    hosts = console.hosts
    hosts.relay_address.setText("relay.example.lg.jp")  # no port
    press(hosts, "new_token")
    qloop.run_until_complete(settled(console))
    assert console.statusBar().currentMessage() == tr("error", message=tr("relay_for_pcs_needed"))
    assert hosts.sheet is None and hosts.code_view.toPlainText() == ""


def test_the_settings_file_for_the_municipality_is_what_viewers_and_office_pcs_read(
    live, console, qloop, tmp_path, monkeypatch
):
    """Office PCs tab → 「設定ファイルを書き出す」: one preset file with the relay, its
    fingerprint and the municipality, which the viewer (viewer.json) and the office PC
    (host.json) read."""
    from apps.common.preset import read_preset
    from apps.viewer.settings import Settings, load_all

    run = qloop.run_until_complete
    hosts = console.hosts
    hosts.relay_address.setText(str(live.relay.endpoint))
    saved = tmp_path / "viewer.json"
    monkeypatch.setattr(hosts, "ask_save_path", lambda *args: saved)
    assert run(hosts.ask_export_preset()) == saved
    preset = read_preset(saved)
    assert preset == {
        "relay": str(live.relay.endpoint),
        "fingerprint": console.client.fingerprint,
        "tenant": TENANT,
    }
    settings = load_all(tmp_path / "config", saved, Settings())
    assert (settings.relay, settings.fingerprint, settings.tenant) == tuple(preset.values())
    hosts.relay_address.setText("")  # no relay address: nothing written, the user is told
    monkeypatch.setattr(hosts, "ask_save_path", lambda *args: pytest.fail("asked anyway"))
    with pytest.raises(InputMissing):
        run(hosts.ask_export_preset())


def test_the_enrolment_sheet_prints_through_the_print_dialog(console, live, qloop, tmp_path):
    """「登録シートを印刷…」 opens the print dialog the staff sheets use (an admin picking a
    PDF file there, as in the staff-sheet tests); cancelling it prints nothing."""
    run = qloop.run_until_complete
    hosts = console.hosts
    assert not hosts.pdf_button.isEnabled()
    hosts.relay_address.setText(str(live.relay.endpoint))
    run(hosts.new_token())
    assert hosts.print_button.isEnabled() and hosts.pdf_button.isEnabled()
    assert hosts.print_button.text() == tr("print_enrolment_sheet") == "Print enrolment sheet…"

    hosts.choose_printer = PrintDialog(tmp_path / "cancelled.pdf", answer=False)
    assert run(hosts.print_on_paper()) is False
    assert not (tmp_path / "cancelled.pdf").exists()

    dialog = hosts.choose_printer = PrintDialog(tmp_path / "sheet.pdf")
    assert run(hosts.print_on_paper()) is True
    (printer,) = dialog.printers
    assert printer.pageLayout().pageSize().id() == QPageSize.PageSizeId.A4
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")
    assert console.statusBar().currentMessage() == tr("saved_to", path=tmp_path / "sheet.pdf")


def test_the_enrolment_sheet_asks_the_real_print_dialog(console, live, qloop):
    run = qloop.run_until_complete
    console.show()
    console.hosts.relay_address.setText(str(live.relay.endpoint))
    run(console.hosts.new_token())
    printing = asyncio.ensure_future(console.hosts.print_on_paper())
    run(until(lambda: console.findChildren(QPrintDialog)))
    (dialog,) = console.findChildren(QPrintDialog)
    run(until(dialog.isVisible))
    dialog.reject()
    assert run(printing) is False
