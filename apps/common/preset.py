"""Preset files: what an installer or an administrator sets once for every user of a PC.

``viewer.json`` (the viewer) and ``host.json`` (the office PC's agent) hold the relay address,
the relay certificate's fingerprint and the tenant, so that nobody types them:

    {"relay": "relay.example.lg.jp:8443", "fingerprint": "<64 hex>", "tenant": "example-city"}

Each is looked for beside the program (a venv's ``bin/``, a frozen program's folder), then in
``/etc/telework/`` (Debian: debconf or a configuration package writes it) or
``%PROGRAMDATA%\\telework\\`` (Windows: the MSI writes it from its RELAY, FINGERPRINT and TENANT
properties); the first file found is used. Qt-free.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

PRESET_KEYS = ("relay", "fingerprint", "tenant")
MAX_PRESET_BYTES = 16 * 1024  # a preset is a few short strings; anything bigger is ignored
# The file names the apps look for (the office PC's agent reads the same form as host.json).
VIEWER_PRESET = "viewer.json"


def preset_json(relay: str, fingerprint: str, tenant: str) -> str:
    """A preset file's text, as the admin console exports it for a municipality."""
    values = dict(zip(PRESET_KEYS, (relay, fingerprint, tenant), strict=True))
    return json.dumps(values, ensure_ascii=False, indent=1) + "\n"


def preset_paths(
    file_name: str,
    env: dict[str, str] | None = None,
    platform: str = sys.platform,
    executable: str = sys.executable,
) -> list[Path]:
    """Where a preset named ``file_name`` may be, most specific first."""
    env = dict(os.environ) if env is None else env
    # abspath, not resolve(): a venv's python is a symlink to the base interpreter, and the
    # file belongs beside the venv's own bin/ (or Scripts), not the system's.
    paths = [Path(os.path.abspath(executable)).parent / file_name]
    if platform == "win32":
        paths.append(Path(env.get("PROGRAMDATA", r"C:\ProgramData")) / "telework" / file_name)
    else:
        paths.append(Path("/etc/telework") / file_name)
    return paths


def read_preset(path: Path) -> dict[str, str]:
    """The string values of a preset file; a missing, huge or broken file reads as empty."""
    try:
        if path.stat().st_size > MAX_PRESET_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v.strip() for k, v in data.items() if isinstance(v, str) and v.strip()}


def load_preset(file_name: str, paths: list[Path] | None = None) -> dict[str, str]:
    """The first preset file found among ``paths`` (default: :func:`preset_paths`)."""
    for path in preset_paths(file_name) if paths is None else paths:
        if path.is_file():
            return read_preset(path)
    return {}
