"""PyInstaller hook for pynput, in place of the stock one: pynput picks its backend (xorg on
Linux, win32 on Windows) at run time, and the stock hook lists the backends by importing
pynput, which fails without an X display (a CI build) and then collects none. This one lists
them from pynput's files, for this OS only."""

import importlib.util
import sys
from pathlib import Path

OTHER_BACKENDS = (
    ("_darwin", "_uinput", "_xorg", "xorg")
    if sys.platform == "win32"
    else ("_darwin", "_win32", "win32")
)


def _modules() -> list[str]:
    spec = importlib.util.find_spec("pynput")
    if spec is None or not spec.submodule_search_locations:
        return []
    base = Path(next(iter(spec.submodule_search_locations)))
    names = []
    for path in sorted(base.rglob("*.py")):
        parts = ["pynput", *path.relative_to(base).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        if not any(part.startswith(OTHER_BACKENDS) for part in parts):
            names.append(".".join(parts))
    return names


hiddenimports = _modules()
