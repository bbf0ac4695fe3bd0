"""What a frozen program's folder must carry (dist/<app>/_internal), so that it runs on a PC
with no Python: Qt's X11 and offscreen platforms, Qt's own Japanese catalog, our resources,
x264 inside PyAV, the relay's migrations; and what it must not (the test tools, Tk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.conftest import DIST, need

QT_APPS = ("telework-viewer", "telework-host")


def internal(app: str) -> Path:
    need([DIST / app / app], f"./run package --apps {app}")
    return DIST / app / "_internal"


@pytest.mark.parametrize("app", QT_APPS)
def test_a_qt_app_carries_its_platforms_catalogs_icons_and_codec(app):
    folder = internal(app)
    plugins = folder / "PySide6" / "Qt" / "plugins"
    for platform in ("libqxcb.so", "libqoffscreen.so"):
        assert (plugins / "platforms" / platform).is_file()
    assert (plugins / "imageformats" / "libqsvg.so").is_file()  # the SVG icons
    assert (folder / "PySide6" / "Qt" / "translations" / "qtbase_ja.qm").is_file()
    for resource in ("icons/telework-viewer.svg", "icons/tray-waiting.svg"):
        assert (folder / "resources" / resource).is_file()
    for language in ("ja", "en"):
        assert (folder / "resources" / "translations" / language / "LC_MESSAGES").is_dir()
    assert list((folder / "av.libs").glob("libx264*"))  # H.264, inside PyAV's FFmpeg
    assert (folder / "babel" / "locale-data" / "ja.dat").is_file()
    assert not (folder / "babel" / "locale-data" / "de.dat").exists()  # only ja and en


def test_the_relay_carries_its_migrations_and_no_qt():
    folder = internal("telework-relay")
    versions = folder / "relay" / "store" / "migrations" / "versions"
    assert (folder / "relay" / "store" / "migrations" / "env.py").is_file()
    assert sorted(p.name for p in versions.glob("0*.py"))[:2] == [
        "0001_initial.py",
        "0002_admin_layer.py",
    ]
    assert not (folder / "PySide6").exists()


def frozen_modules(app: str) -> set[str]:
    """The top-level packages in the program's module archive (PYZ)."""
    from PyInstaller.archive.readers import CArchiveReader

    internal(app)
    executable = CArchiveReader(str(DIST / app / app))
    pyz = next(name for name in executable.toc if name.endswith(".pyz"))
    return {name.split(".")[0] for name in executable.open_embedded_archive(pyz).toc}


@pytest.mark.parametrize("app", [*QT_APPS, "telework-relay"])
def test_no_test_tool_or_tk_is_frozen_in(app):
    unwanted = {"pytest", "_pytest", "hypothesis", "tkinter", "PyInstaller", "tests", "bench"}
    assert frozen_modules(app) & unwanted == set()
    assert not list(internal(app).rglob("_tkinter*"))


def test_the_apps_and_the_relay_do_not_carry_each_other():
    assert "relay" not in frozen_modules("telework-viewer")
    assert {"apps", "PySide6", "numpy", "av"} & frozen_modules("telework-relay") == set()
