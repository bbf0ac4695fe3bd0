"""Where each app keeps its user's settings: the OS's per-user config directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_config_dir(
    app_dir_name: str, env: dict[str, str] | None = None, platform: str = sys.platform
) -> Path:
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform == "win32":
        base = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    return base / app_dir_name
