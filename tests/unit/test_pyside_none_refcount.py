"""Regression: PySide6 must not leak or steal references to ``None`` on this Python.

PySide6 6.12.0 on Python 3.11 drops a reference to ``None`` on every call of a method returning
void; after a few thousand calls the interpreter aborts with "Fatal Python error: none_dealloc"
(ARCHITECTURE.md). On 3.12+ ``None`` is immortal and the bug is harmless. The apps call void Qt
methods constantly, so these tests guard the Python/PySide6 pair the project runs on: on an
interpreter where ``None`` is mortal the void-call loop shows the leak (or aborts the run); on
one where it is immortal, the refcount cannot move, so what protects us, immortality itself, is
checked directly by dropping references to ``None`` that were never taken.
"""

from __future__ import annotations

import ctypes
import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

QtCore = pytest.importorskip("PySide6.QtCore")

CALLS = 20_000  # several times the few thousand that crash an affected interpreter
TOLERANCE = 16  # unrelated objects created meanwhile may hold a handful of references
# References to None dropped on purpose: far fewer than a mortal None holds (thousands), so a
# mortal one shows the loss instead of being freed; an immortal one shows nothing.
PROBE_DROPS = 100


def test_void_qt_calls_keep_the_refcount_of_none() -> None:
    obj = QtCore.QObject()
    timer = QtCore.QTimer()
    before = sys.getrefcount(None)
    for i in range(CALLS):
        obj.setObjectName("x")  # returns void
        timer.setInterval(i % 1000)  # returns void
    after = sys.getrefcount(None)
    assert abs(after - before) <= TOLERANCE, (before, after)
    assert obj.objectName() == "x" and timer.interval() == (CALLS - 1) % 1000


def test_none_survives_references_dropped_that_were_never_taken() -> None:
    """What PySide6's bug does to ``None``, done on purpose: harmless only if ``None`` is
    immortal, which is what makes the project's Python/PySide6 pair safe."""
    before = sys.getrefcount(None)
    for _ in range(PROBE_DROPS):
        ctypes.pythonapi.Py_DecRef(ctypes.py_object(None))
    dropped = before - sys.getrefcount(None)
    for _ in range(PROBE_DROPS):  # give back what a mortal None lost, before asserting
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    assert dropped < PROBE_DROPS // 2, f"None is mortal here: {dropped} references lost"


def test_running_python_is_one_the_project_supports() -> None:
    assert sys.version_info >= (3, 12), "PySide6 6.12 corrupts None's refcount before 3.12"
