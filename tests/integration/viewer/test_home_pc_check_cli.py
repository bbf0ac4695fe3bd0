"""``telework-viewer --home-pc-check`` on this Linux machine, whatever its real state: one JSON
object with every check as pass, fail or not_available, and an exit code that matches the
policy given."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.homecheck.report import Check

ROOT = Path(__file__).resolve().parents[3]
STATUSES = {"pass", "fail", "not_available"}


def home_pc_check(*options: str) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "apps.viewer.main", "--home-pc-check", *options],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout else {}


def write_policy(tmp_path: Path, policy: dict) -> str:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy), encoding="utf-8")
    return str(path)


@pytest.mark.skipif(sys.platform != "linux", reason="the checks this project runs are Linux's")
def test_every_check_with_its_status_and_the_exit_code_of_the_default_policy():
    code, result = home_pc_check()
    assert set(result["checks"]) == {c.value for c in Check}
    for name, check in result["checks"].items():
        assert check["status"] in STATUSES, name
        assert isinstance(check["detail"], str) and check["detail"], name
    # Without --policy every check but the version (no minimum named) is required.
    required = [n for n, c in result["checks"].items() if c["required"]]
    assert set(required) == {c.value for c in Check} - {"viewer_version"}
    passed = all(result["checks"][n]["status"] == "pass" for n in required)
    assert result["passed"] is passed and code == (0 if passed else 1)
    # Linux has no antivirus status to ask: the policy decides.
    assert result["checks"]["antivirus"]["status"] == "not_available"
    assert result["viewer_version"] and result["os"]


def test_a_policy_that_requires_nothing_passes(tmp_path):
    code, result = home_pc_check("--policy", write_policy(tmp_path, {}))
    assert code == 0 and result["passed"] is True and result["refusal"] is None
    assert not any(c["required"] for c in result["checks"].values())


def test_a_policy_that_requires_antivirus_fails_on_linux(tmp_path):
    policy = write_policy(tmp_path, {"home_checks": ["antivirus"]})
    code, result = home_pc_check("--policy", policy)
    assert code == 1 and result["refusal"] == "home_pc_check_failed"
    assert result["checks"]["antivirus"]["required"] is True


def test_a_minimum_version_above_this_viewers(tmp_path):
    code, result = home_pc_check("--policy", write_policy(tmp_path, {"min_viewer_version": "99"}))
    assert code == 1 and result["refusal"] == "viewer_too_old"
    assert result["checks"]["viewer_version"]["status"] == "fail"


def test_an_unreadable_policy(tmp_path):
    code, result = home_pc_check("--policy", write_policy(tmp_path, {"clipboard": True}))
    assert code == 2 and result == {}
