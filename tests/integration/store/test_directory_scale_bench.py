"""bench/directory_scale.py at a tiny size: it seeds a throwaway PostgreSQL, times logins,
placements and the admin API's lists, and ends with one JSON line of sane figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_POSTGRES_ENV
from tests.postgres_cluster import missing_reason

ROOT = Path(__file__).parents[3]
SIZE = {"tenants": 3, "staff": 30, "hosts": 60}


@pytest.mark.slow
def test_directory_scale_bench_runs_small() -> None:
    reason = missing_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {reason}")
        pytest.skip(reason)
    options = [f"--{name}={value}" for name, value in SIZE.items()]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "directory_scale.py"),
            *options,
            "--samples=8",
            "--admin-samples=2",
            "--no-durable",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert {k: report[k] for k in SIZE} == SIZE
    rows = report["rows"]
    assert rows["tenants"] == 3 and rows["users"] == 30 and rows["hosts"] == 60
    assert rows["grants"] >= 30 and rows["audit"] == 120 and rows["host_locations"] > 0
    assert report["seed_s"] >= 0 and report["durable"] is False
    for key in ("login_ms_p50", "login_ms_p99", "placement_ms_p50", "placement_ms_p99"):
        assert 0 < report[key] < 10_000, key
    assert report["login_ms_p50"] <= report["login_ms_p99"]
    assert set(report["login_steps_ms_p99"]) == {
        "verify_otp",
        "is_granted",
        "issue_resume_ticket",
        "redeem_resume_ticket",
    }
    assert set(report["placement_steps_ms_p99"]) == {"live_nodes", "set_host_location", "host_node"}
    pages = report["admin_list_ms_p99"]
    assert "operator.tenants" in pages
    for who in ("tenant_admin", "operator"):
        for name in ("staff", "hosts", "grants", "audit"):
            assert 0 < pages[f"{who}.{name}"] < 10_000
    for name in ("staff", "hosts", "grants", "audit"):
        assert 0 < pages[f"tenant_admin.{name}_page"] < 10_000
    assert isinstance(report["over_target"], list)
