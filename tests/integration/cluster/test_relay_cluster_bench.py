"""bench/relay_cluster.py at a tiny size: two relay nodes on a throwaway PostgreSQL behind
HAProxy, office PCs and sessions through it, one node killed; every office PC it held comes back
on the other, every dropped session resumes, and the last line is the JSON report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_POSTGRES_ENV
from tests.postgres_cluster import missing_reason

ROOT = Path(__file__).parents[3]
SIZE = {"nodes": 2, "idle_hosts": 20, "sessions": 4}
KEYS = {
    "nodes",
    "idle_hosts",
    "sessions",
    "joined",
    "errors",
    "added_latency_ms_p50",
    "added_latency_ms_p99",
    "rehome_s_p50",
    "rehome_s_p99",
    "rehome_s_max",
    "resume_s_max",
    "reconnects_per_s_peak",
    "node_cpu_percent",
    "node_rss_mb",
}


@pytest.mark.slow
def test_relay_cluster_bench_runs_small() -> None:
    reason = missing_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {reason}")
        pytest.skip(reason)
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.skip("needs HAProxy (apt-get install haproxy)")
    options = [f"--{name.replace('_', '-')}={value}" for name, value in SIZE.items()]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "relay_cluster.py"),
            *options,
            "--seconds=8",
            "--kill-node-at=3",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(report) >= KEYS, KEYS - set(report)
    assert {k: report[k] for k in SIZE} == SIZE
    assert report["joined"] == SIZE["sessions"], done.stderr[-3000:]
    assert report["errors"] == 0, done.stderr[-3000:]
    # The killed node held office PCs (leastconn spreads them), and every one came back.
    assert report["orphaned_hosts"] > 0
    assert report["orphans_back"] == report["orphaned_hosts"]
    assert report["other_hosts_dropped"] == 0
    assert 0 < report["rehome_s_p50"] <= report["rehome_s_p99"] <= report["rehome_s_max"] < 8
    assert report["sessions_resumed"] == report["sessions_dropped"]
    if report["sessions_dropped"]:
        assert 0 < report["resume_s_max"] < 8
    assert report["hosts_online_at_end"] == SIZE["idle_hosts"] + SIZE["sessions"]
    assert report["reconnects_per_s_peak"] > 0
    assert report["added_latency_ms_p50"] > 0
    assert len(report["node_cpu_percent"]) == len(report["node_rss_mb"]) == SIZE["nodes"]
    assert all(mb > 0 for mb in report["node_rss_mb"])
