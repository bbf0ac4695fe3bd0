"""The office PC's preset (host.json): the relay and fingerprint an installer sets, used until
the PC is enrolled; the enrolment record and the command line come first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.common import preset
from apps.host.agent import HostAgent
from apps.host.main import build_parser, options_from
from apps.host.store import DataDir, HostRecord

PRESET_FP = "ab" * 32
RECORD_FP = "cd" * 32
CLI_FP = "ef" * 32


@pytest.fixture
def host_json(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "etc" / "host.json"
    path.parent.mkdir()
    path.write_text(
        json.dumps({"relay": "preset.example:8443", "fingerprint": PRESET_FP, "tenant": "x"})
    )
    monkeypatch.setattr(preset, "preset_paths", lambda name, *a, **k: [tmp_path / name, path])
    return path


def options(tmp_path: Path, *args: str):
    return options_from(build_parser().parse_args(["--data-dir", str(tmp_path / "host"), *args]))


def test_the_preset_fills_what_the_command_line_leaves_out(tmp_path, host_json):
    opts = options(tmp_path)
    assert (opts.relay, opts.relay_fingerprint) == (None, None)
    assert (opts.preset_relay, opts.preset_fingerprint) == ("preset.example:8443", PRESET_FP)


def test_not_enrolled_the_agent_enrols_with_the_preset_relay(tmp_path, host_json):
    endpoint = HostAgent(options(tmp_path))._endpoint()
    assert (endpoint.host, endpoint.port, endpoint.fingerprint) == (
        "preset.example",
        8443,
        PRESET_FP,
    )


def test_enrolled_the_record_wins_over_the_preset_and_the_command_line_over_both(
    tmp_path, host_json
):
    record = HostRecord("h" * 52, "city", "record.example:9443", RECORD_FP, "PC-01")
    DataDir(tmp_path / "host").save_enrolment(record, "secret")
    endpoint = HostAgent(options(tmp_path))._endpoint()
    assert (endpoint.host, endpoint.port, endpoint.fingerprint) == (
        "record.example",
        9443,
        RECORD_FP,
    )
    given = options(tmp_path, "--relay", "cli.example:7443", "--relay-fingerprint", CLI_FP)
    endpoint = HostAgent(given)._endpoint()
    assert (endpoint.host, endpoint.fingerprint) == ("cli.example", CLI_FP)


def test_no_preset_file_means_no_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr(preset, "preset_paths", lambda name, *a, **k: [tmp_path / name])
    opts = options(tmp_path)
    assert (opts.preset_relay, opts.preset_fingerprint) == (None, None)


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[1, 2]", b'{"relay": 5}', b"{" + b" " * preset.MAX_PRESET_BYTES + b"}"],
)
def test_a_broken_huge_or_odd_preset_reads_as_empty(tmp_path, content):
    path = tmp_path / "host.json"
    path.write_bytes(content)
    assert preset.read_preset(path) == {}


def test_the_first_preset_found_is_used_and_values_are_stripped(tmp_path):
    beside, system = tmp_path / "beside.json", tmp_path / "system.json"
    system.write_text('{"relay": " r:1 ", "tenant": "t", "extra": ["ignored"]}')
    assert preset.load_preset("x", [beside, system]) == {"relay": "r:1", "tenant": "t"}
    beside.write_text('{"relay": "b:2"}')
    assert preset.load_preset("x", [beside, system]) == {"relay": "b:2"}


def test_windows_presets_are_in_programdata(tmp_path):
    paths = preset.preset_paths(
        "host.json", {"PROGRAMDATA": str(tmp_path)}, "win32", str(tmp_path / "h.exe")
    )
    assert paths == [tmp_path / "host.json", tmp_path / "telework" / "host.json"]
