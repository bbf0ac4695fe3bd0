"""The three apps' screens name the same thing alike, in the glossary's words
(docs/ja/glossary.md): the relay server, its fingerprint, the office PC's ID."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFormLayout, QLineEdit

from apps.admin.main import LoginDialog as ConsoleSignIn
from apps.admin.texts import tr as console
from apps.common.i18n import set_language
from apps.host.wizard import EnrolmentWizard
from apps.host.wizard import tr as host
from apps.viewer.login_dialog import LoginDialog as ViewerLogin
from apps.viewer.settings import Settings
from apps.viewer.texts import Texts


@pytest.fixture(params=["ja", "en"])
def language(request):
    set_language(request.param)
    yield request.param
    set_language(None)


def label_of(field: QLineEdit) -> str:
    """The text of the label a form shows beside ``field``."""
    parent = field.parentWidget()
    for form in parent.findChildren(QFormLayout):
        label = form.labelForField(field)
        if label is not None:
            return label.text()
    raise AssertionError(f"no label for {field.objectName()}")


TERMS = {
    "ja": {
        "relay": "中継サーバー",
        "fingerprint": "中継サーバーのフィンガープリント",
        "id": "職場PCのID",
    },
    "en": {
        "relay": "Relay server",
        "fingerprint": "Relay server fingerprint",
        "id": "Office PC ID",
    },
}


def test_the_same_names_in_the_viewer_the_office_pc_and_the_console(qtbot, language):
    terms = TERMS[language]
    viewer = ViewerLogin(Texts(language), Settings())
    wizard = EnrolmentWizard(name="PC-01")
    sign_in = ConsoleSignIn()
    for widget in (viewer, wizard, sign_in):
        qtbot.addWidget(widget)

    assert label_of(viewer.edits["relay"]).startswith(terms["relay"])
    assert label_of(wizard.relay_edit).startswith(terms["relay"])

    fingerprint_labels = [
        label_of(viewer.edits["fingerprint"]),
        label_of(wizard.fingerprint_edit),
        label_of(sign_in.fingerprint),
    ]
    assert all(label.startswith(terms["fingerprint"]) for label in fingerprint_labels)

    id_names = [label_of(viewer.edits["host_id"]), host("host_id"), console("col_host_id")]
    assert id_names == [terms["id"]] * 3
