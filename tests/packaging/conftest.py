"""What ``./run package`` builds: the frozen programs in dist/ and the Debian packages.

These tests use what is already in dist/, built once before pytest: in CI ``./run test`` builds
it when ``TELEWORK_PACKAGE_TESTS`` is set (``.ci/run`` sets it); by hand, ``./run package``.
Without the builds the tests skip, or fail when ``TELEWORK_REQUIRE_PACKAGES`` is set (CI).

The end-to-end fixtures (displays, relay, accounts, the office PC) are the e2e suite's, with
``programs`` pointing at the frozen executables instead of ``python -m``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import (  # noqa: F401 - fixtures, used by name
    accounts,
    e2e_work,
    home_macs,
    home_screen,
    office_desktop,
    office_pc,
    office_screen,
    relay,
)
from tests.e2e.rig import FROZEN_APPS, ROOT, Programs

DIST = Path(os.environ.get("TELEWORK_DIST") or ROOT / "dist")
REQUIRE_PACKAGES_ENV = "TELEWORK_REQUIRE_PACKAGES"


def need(paths: list[Path], how: str) -> None:
    """Skip (or, in CI, fail) unless every one of ``paths`` exists."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        message = f"not built: {', '.join(missing)} ({how})"
        if os.environ.get(REQUIRE_PACKAGES_ENV):
            pytest.fail(f"{REQUIRE_PACKAGES_ENV} is set but {message}")
        pytest.skip(message)


@pytest.fixture(scope="session")
def programs() -> Programs:
    """The frozen relay, host agent and viewer from dist/."""
    need([DIST / app / app for app in FROZEN_APPS], "./run package --apps " + ",".join(FROZEN_APPS))
    return Programs.frozen(DIST)
