"""The enrolment wizard for an admin who is not an engineer: the enrolment code pasted or read
from a photo of its QR code fills in the relay's details, the PC is named (its host name by
default), an error goes once corrected, and the fingerprint to compare shows whole."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from apps.admin.qr import qr_image
from apps.common.enrolment_code import EnrolmentCode, group_fingerprint
from apps.common.fields import shows_whole
from apps.common.i18n import set_language
from apps.host.i18n import tr
from apps.host.wizard import EnrolmentWizard

FINGERPRINT = "0123456789abcdef" * 4
CODE = EnrolmentCode("relay.example.lg.jp:8443", FINGERPRINT, "tok-ABC_123", "example-city")


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language(None)


@pytest.fixture
def wizard(qtbot):
    wizard = EnrolmentWizard()
    qtbot.addWidget(wizard)
    return wizard


def test_a_pasted_code_fills_in_the_relay_and_the_pc_is_named_after_its_host_name(qtbot, wizard):
    assert wizard.name_edit.text() == socket.gethostname()
    text = CODE.encode()
    wrapped = "\n".join(text[i : i + 40] for i in range(0, len(text), 40))  # as printed
    wizard.code_edit.setPlainText(wrapped)
    assert wizard.relay_edit.text() == CODE.relay
    assert wizard.fingerprint_edit.text() == FINGERPRINT
    assert wizard.token_edit.text() == CODE.token
    assert "example-city" in wizard.code_status.text()
    assert wizard.error_label.text() == ""
    wizard.name_edit.setText(" 税務課-窓口1 ")
    with qtbot.waitSignal(wizard.enroll_requested) as requested:
        wizard.enroll_button.click()
    assert requested.args == [CODE.relay, FINGERPRINT, CODE.token, "税務課-窓口1"]


def test_a_pc_needs_a_name(qtbot, wizard):
    wizard.code_edit.setPlainText(CODE.encode())
    wizard.name_edit.clear()
    with qtbot.assertNotEmitted(wizard.enroll_requested):
        wizard.enroll_button.click()
    assert wizard.error_label.text() == tr("missing_pc_name")


def test_a_bad_code_says_why_and_the_error_goes_once_corrected(qtbot, wizard):
    text = CODE.encode()
    wizard.code_edit.setPlainText(text[:-5])  # cut short when copied
    assert wizard.error_label.text() == tr("code_error_damaged")
    with qtbot.assertNotEmitted(wizard.enroll_requested):
        wizard.enroll_button.click()
    assert wizard.error_label.text() == tr("code_error_damaged")
    wizard.code_edit.setPlainText(text)
    assert wizard.error_label.text() == ""
    wizard.code_edit.setPlainText("ab" * 32)  # a fingerprint pasted in the wrong field
    assert wizard.error_label.text() == tr("code_error_not_a_code")


def test_an_error_about_a_field_goes_once_the_field_is_corrected(qtbot, wizard):
    wizard.relay_edit.setText("relay.example.lg.jp:8443")
    wizard.fingerprint_edit.setText("12345")
    wizard.enroll_button.click()
    assert wizard.error_label.text() == tr("invalid_fingerprint")
    wizard.fingerprint_edit.setText(FINGERPRINT)
    assert wizard.error_label.text() == ""
    wizard.enroll_button.click()
    assert wizard.error_label.text() == tr("missing_token")
    wizard.token_edit.setText("tok")
    assert wizard.error_label.text() == ""


def test_a_failed_enrolment_stays_until_the_admin_changes_something(qtbot, wizard):
    wizard.code_edit.setPlainText(CODE.encode())
    wizard.enroll_button.click()
    wizard.show_failed("bad_enrollment_token")
    assert "Invalid enrolment token" in wizard.error_label.text()
    wizard.code_edit.setPlainText(
        EnrolmentCode(CODE.relay, FINGERPRINT, "a-new-token", CODE.tenant).encode()
    )
    assert wizard.error_label.text() == ""
    assert wizard.token_edit.text() == "a-new-token"


def _photo_of(text: str) -> QImage:
    """A QR code on a larger grey page, as a scan or a photo of the sheet would show it."""
    page = QImage(900, 700, QImage.Format.Format_RGB32)
    page.fill(QColor("#dddddd"))
    painter = QPainter(page)
    painter.drawImage(QRect(250, 150, 400, 400), qr_image(text))
    painter.end()
    return page


def test_the_code_is_read_from_an_image_of_its_qr_code(qtbot, wizard, tmp_path):
    image = tmp_path / "sheet.png"
    assert _photo_of(CODE.encode()).save(str(image))
    wizard.choose_image = lambda: str(image)
    wizard.load_qr_button.click()
    assert wizard.code_edit.toPlainText() == CODE.encode()
    assert wizard.fingerprint_edit.text() == FINGERPRINT and wizard.error_label.text() == ""

    other = tmp_path / "other.png"
    assert _photo_of("https://example.lg.jp/").save(str(other))
    wizard.choose_image = lambda: str(other)
    wizard.load_qr_button.click()
    assert wizard.error_label.text() == tr("qr_no_code")
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    wizard.choose_image = lambda: str(not_an_image)
    wizard.load_qr_button.click()
    assert wizard.error_label.text() == tr("qr_not_an_image")
    wizard.choose_image = lambda: ""  # cancelled: nothing changes
    wizard.load_qr_button.click()
    assert wizard.error_label.text() == tr("qr_not_an_image")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_fingerprint_and_its_check_show_whole(qtbot, language):
    set_language(language)
    wizard = EnrolmentWizard()
    qtbot.addWidget(wizard)
    wizard.code_edit.setPlainText(CODE.encode())
    wizard.show()
    qtbot.waitExposed(wizard)
    edit = wizard.fingerprint_edit
    assert edit.width() > edit.fontMetrics().horizontalAdvance(FINGERPRINT)
    value = wizard.check_value
    assert value.text() == group_fingerprint(FINGERPRINT)
    lines = value.text().splitlines()
    for line in lines:
        assert value.fontMetrics().horizontalAdvance(line) <= value.contentsRect().width()
    assert value.contentsRect().height() >= value.fontMetrics().height() * len(lines)
    for label in (wizard.check_label, wizard.code_status, wizard.error_label):
        needed = label.fontMetrics().boundingRect(
            QRect(0, 0, label.contentsRect().width(), 10_000),
            Qt.TextFlag.TextWordWrap,
            label.text(),
        )
        assert needed.height() <= label.contentsRect().height(), label.text()


def test_enter_in_the_code_field_enrols(qtbot, wizard):
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.code_edit.setFocus()
    qtbot.keyClicks(wizard.code_edit, CODE.encode())
    with qtbot.waitSignal(wizard.enroll_requested) as requested:
        qtbot.keyClick(wizard.code_edit, Qt.Key.Key_Return)
    assert requested.args[:3] == [CODE.relay, FINGERPRINT, CODE.token]
    assert "\n" not in wizard.code_edit.toPlainText()


def test_the_relay_fields_show_whole_with_their_value_in_the_tooltip(qtbot, wizard):
    wizard.code_edit.setPlainText(
        EnrolmentCode("telework-relay.example-city.lg.jp:8443", FINGERPRINT, "t" * 43, "x").encode()
    )
    wizard.show()
    qtbot.waitExposed(wizard)
    for field in (wizard.relay_edit, wizard.fingerprint_edit, wizard.token_edit):
        assert shows_whole(field), field.text()
        assert field.toolTip() == field.text()
