"""The viewer's connection fields show their whole value: a long relay address, the 64-digit
fingerprint and the office PC's ID are not cut to their tail, and are in their tooltips."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtWidgets import QLineEdit

from apps.common.fields import shows_whole
from tests.gui.viewer.login_dialogs import FULL, dialog


@pytest.mark.parametrize("language", ["ja", "en"])
def test_connection_fields_show_whole(qtbot, language):
    settings = dataclasses.replace(
        FULL, relay="telework-relay.example-city.lg.jp:8443", host_id="ABCDE-FGHIJ-KLMNO-PQRST"
    )
    d = dialog(qtbot, settings, language)
    d.all_fields_button.click()
    for name in ("relay", "fingerprint", "host_id"):
        field = d.findChild(QLineEdit, name)
        assert field.isVisible()
        assert shows_whole(field), (name, field.width())
        assert field.toolTip() == field.text()
