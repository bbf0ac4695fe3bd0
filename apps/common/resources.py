"""Where the files under the top-level ``resources/`` folder are, from a checkout, an installed
package or a frozen (PyInstaller) build."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_root() -> Path:
    """The ``resources`` folder: beside the ``apps`` package when installed or checked out, or
    inside the frozen build's unpacked bundle (``sys._MEIPASS``), which holds it under the same
    name (the build's ``datas`` copy it there)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """A file under ``resources/``, e.g. ``resource_path("icons", "telework-viewer.svg")``."""
    return resources_root().joinpath(*parts)
