"""Where the viewer looks for an installer's ``viewer.json``."""

from __future__ import annotations

from pathlib import Path

from apps.viewer.settings import installer_config_paths


def test_beside_a_venvs_python_not_the_interpreter_it_links_to(tmp_path):
    base_bin = tmp_path / "pyenv" / "versions" / "3.12" / "bin"
    base_bin.mkdir(parents=True)
    (base_bin / "python3.12").write_text("")
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(base_bin / "python3.12")
    paths = installer_config_paths({}, "linux", executable=str(venv_bin / "python"))
    assert paths == [venv_bin / "viewer.json", Path("/etc/telework/viewer.json")]


def test_a_relative_executable_gives_an_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path)
    first = installer_config_paths({}, "linux", executable="app/telework-viewer")[0]
    assert first.is_absolute() and first == tmp_path / "app" / "viewer.json"


def test_windows_falls_back_to_programdata(tmp_path):
    paths = installer_config_paths(
        {"PROGRAMDATA": str(tmp_path)}, "win32", executable=str(tmp_path / "viewer.exe")
    )
    assert paths == [tmp_path / "viewer.json", tmp_path / "telework" / "viewer.json"]
