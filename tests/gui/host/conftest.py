"""Host tray and wizard under Qt's offscreen platform: no display needed, nothing shown."""

import os

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"


@pytest.fixture(autouse=True)
def english():
    from apps.host.i18n import set_language

    set_language("en")
    yield
    set_language(None)
