"""Host tray and wizard under Qt's offscreen platform: no display needed, nothing shown."""

import os

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"

QT_NOISE = ("This plugin does not support",)


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.qt_log_ignore(*QT_NOISE))
