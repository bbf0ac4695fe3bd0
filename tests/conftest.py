"""Shared test settings."""

import gc

import pytest
from hypothesis import HealthCheck, settings

# CI machines have 2 busy cores: judge properties by their results, never by wall time.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _english():
    """Every test starts in English, whatever the machine's locale; a test may switch."""
    from apps.common.i18n import set_language

    set_language("en")


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_qt_thread(request):
    """After a GUI test, collect cyclic garbage here, on the Qt thread: left for later, it may
    be collected on another thread (a test's background relay), and Qt crashes on that."""
    yield
    if "gui" in request.node.path.parts:
        gc.collect()
