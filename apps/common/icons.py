"""The apps' icons: the three app icons and the tray's state icons, SVG files in resources/icons."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from apps.common.resources import resource_path

# Tray states with an icon of their own; any other (not enrolled, stopped) looks offline.
TRAY_ICON_STATES = frozenset({"offline", "waiting", "in_session", "error", "paused"})


def app_icon(app_name: str) -> QIcon:
    """``telework-viewer``, ``telework-host`` or ``telework-admin``: the name the desktop
    entries give as ``Icon=``."""
    return QIcon(str(resource_path("icons", f"{app_name}.svg")))


def tray_icon(state: str) -> QIcon:
    """A monitor in the state's colour (a dot in session, a cross on error)."""
    shown = state if state in TRAY_ICON_STATES else "offline"
    return QIcon(str(resource_path("icons", f"tray-{shown}.svg")))
