"""The files under resources/: found from a checkout and from a frozen build, and complete."""

from __future__ import annotations

import configparser
import sys
import tomllib

from apps.common import resources
from apps.common.resources import resource_path, resources_root

TRAY_STATES = ("offline", "not_enrolled", "waiting", "in_session", "error", "paused", "stopped")
APPS = ("telework-viewer", "telework-host", "telework-admin")


def test_the_resources_folder_is_found_in_a_checkout_and_in_a_frozen_build(monkeypatch, tmp_path):
    assert (resources_root() / "translations").is_dir()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource_path("icons", "x.svg") == tmp_path / "resources" / "icons" / "x.svg"


def test_every_app_has_an_icon_and_a_desktop_entry():
    with open(resources_root().parent / "pyproject.toml", "rb") as f:
        scripts = tomllib.load(f)["project"]["scripts"]
    for app in APPS:
        assert resource_path("icons", f"{app}.svg").is_file(), app
        entry = configparser.ConfigParser(interpolation=None)
        entry.read(resource_path("desktop", f"{app}.desktop"), encoding="utf-8")
        section = entry["Desktop Entry"]
        assert section["Exec"].split()[0] in scripts, app
        assert resource_path("icons", section["Icon"] + ".svg").is_file(), app
        assert section["Name[ja]"] and section["Name"], app


def test_every_tray_state_has_an_icon_file():
    from apps.common.icons import TRAY_ICON_STATES

    assert set(TRAY_ICON_STATES) <= set(TRAY_STATES)
    for state in TRAY_ICON_STATES:
        assert resource_path("icons", f"tray-{state}.svg").is_file(), state
