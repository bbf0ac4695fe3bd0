"""Viewer widgets under Qt's offscreen platform: no display needed, nothing shown."""

import os

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"

# The offscreen platform says it cannot propagate size hints or raise windows; QTest cannot spell
# the Japanese keys as ASCII. Neither is about the viewer.
QT_NOISE = ("This plugin does not support", "keyToAscii Unhandled key code")


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.qt_log_ignore(*QT_NOISE))
