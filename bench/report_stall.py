"""Report stall benchmark: how much latency the admin API's largest reports add to the sessions
the same relay process forwards.

    python bench/report_stall.py --sessions 50 --audit-rows 500000

The relay runs as its own process (``telework-relay serve --admin-listen``), its directory
filled beforehand: the pairs of :mod:`bench.relay_load` and an audit log of ``--audit-rows``
records bulk-inserted for that tenant (a year of session starts and ends, the rest logins and
office PCs coming and going). Load generators (relay_load's, as processes) run the sessions:
100 kbit/s of stamped "video" one way, small stamped "input" the other; each sample's one-way
latency through the relay is kept with its arrival time.

Once every session forwards and the directory is quiet, this process signs in as the tenant's
admin and, after ``--baseline`` seconds of nothing, asks for the largest reports one after the
other: a year of daily usage (JSON, CSV), the audit log's largest search (JSON, CSV), then
``--burst`` audit exports at once. Samples that arrived while a report was being answered are
"during" (until the next report starts, or a few seconds after the last: a message held up
arrives late); those of the quiet baseline are "without".

Last line: JSON with the latency (ms, p50/p99/max) without and during the reports, and each
report's status, seconds and size.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.relay_load import (  # noqa: E402
    FD_HEADROOM,
    IDLE_RAMP_PER_S,
    RAMP_PER_S,
    TENANT,
    percentile,
    prepare,
    raise_fd_limit,
    relay_gauge,
    run_generators,
    start_relay,
    wait_for_quiet_directory,
)
from core.admin_api import API_PREFIX  # noqa: E402
from relay.store.audit import MAX_AUDIT_LIMIT  # noqa: E402
from relay.store.directory import Directory  # noqa: E402
from relay.store.schema import audit  # noqa: E402

ADMIN = "bench-admin"
INSERT_BATCH = 20_000
# Share of the audit log that is sessions (a start and an end each); the rest: other events.
SESSION_SHARE = 0.3
OTHER_EVENTS = ("otp_used", "login_ok", "host_online", "host_offline", "login_refused")
REQUEST_TIMEOUT_S = 600.0
# After the last report: messages it held up arrive late, and count as "during".
TAIL_S = 5.0


def fill_audit(data_dir: Path, rows: int, host_ids: list[str], logins: list[str]) -> int:
    """``rows`` audit records of the tenant over the last year, oldest first, bulk-inserted;
    returns the number of sessions among them."""
    rng = random.Random(14)
    now = time.time()
    year = 365 * 24 * 3600.0
    sessions = int(rows * SESSION_SHARE / 2)
    events: list[dict[str, Any]] = []
    for i in range(sessions):
        start = now - year + rng.random() * (year - 3600)
        who = rng.randrange(len(logins))
        common = {"tenant": TENANT, "login": logins[who], "host_id": host_ids[who]}
        session = {"session": f"s{i:07d}"}
        events.append({**common, "ts": start, "event": "session_start", "detail": session})
        end = {**session, "reason": "viewer_left", "bytes_to_viewer": 1, "bytes_to_host": 1}
        length = rng.uniform(600, 8 * 3600)
        events.append({**common, "ts": start + length, "event": "session_end", "detail": end})
    for _ in range(rows - 2 * sessions):
        who = rng.randrange(len(logins))
        events.append(
            {
                "tenant": TENANT,
                "login": logins[who],
                "host_id": host_ids[who],
                "ts": now - rng.random() * year,
                "event": rng.choice(OTHER_EVENTS),
                "detail": {"source_port": rng.randrange(65536)},
            }
        )
    events.sort(key=lambda e: e["ts"])
    with Directory.open(data_dir) as directory, directory._db.write() as conn:
        for at in range(0, len(events), INSERT_BATCH):
            batch = events[at : at + INSERT_BATCH]
            conn.execute(
                sa.insert(audit),
                [{**e, "source": "127.0.0.1", "detail": json.dumps(e["detail"])} for e in batch],
            )
    return sessions


def read_admin_url(relay: Any) -> str:
    """The admin API's URL, from what ``serve`` prints after its listening lines."""
    while line := relay.stdout.readline():
        if line.startswith("admin API on "):
            return str(line.split()[3])
    raise RuntimeError("the relay did not start its admin API")


def reports(today: dt.date) -> list[tuple[str, str]]:
    """The largest report of each kind: (name, path and query)."""
    base = f"{API_PREFIX}/tenants/{TENANT}"
    year = f"since={today - dt.timedelta(days=365)}&until={today}"
    return [
        ("usage_year_json", f"{base}/usage?{year}"),
        ("usage_year_csv", f"{base}/usage?{year}&format=csv"),
        ("audit_largest_json", f"{base}/audit?limit={MAX_AUDIT_LIMIT}"),
        ("audit_largest_csv", f"{base}/audit?limit={MAX_AUDIT_LIMIT}&format=csv"),
    ]


class Reporter:
    """Asks for the reports from a process of its own (forked before the generators, so no
    process forks with threads running), noting when each ran."""

    def __init__(self, args: argparse.Namespace, admin: tuple[str, str], pin: str) -> None:
        self.args = args
        self.password, self.secret = admin
        self.pin = pin
        self.done = mp.Event()
        self.baseline: tuple[float, float] = (0.0, 0.0)
        self.results: list[dict[str, Any]] = []
        self.error: str | None = None

    def run(self, out: mp.Queue) -> None:  # type: ignore[type-arg]
        try:
            asyncio.run(self.main())
        except Exception as exc:  # reported in the JSON, and the run ends
            self.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            out.put((self.baseline, self.results, self.error))
            self.done.set()

    async def main(self) -> None:
        args = self.args
        deadline = time.monotonic() + 600
        while relay_gauge(args.metrics_url, "telework_live_sessions") < args.sessions:
            if time.monotonic() > deadline:
                raise RuntimeError("the sessions did not all start")
            await asyncio.sleep(0.5)
        await asyncio.to_thread(wait_for_quiet_directory, args.metrics_url)
        await asyncio.sleep(1.0)  # the generators' warm-up and measuring flag
        connector = aiohttp.TCPConnector(ssl=aiohttp.Fingerprint(bytes.fromhex(self.pin)))
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            body = {
                "login": ADMIN,
                "password": self.password,
                "otp": pyotp.TOTP(self.secret).now(),
            }
            async with http.post(f"{args.admin_url}{API_PREFIX}/login", json=body) as response:
                assert response.status == 200, await response.text()
                token = (await response.json())["token"]
            headers = {"Authorization": f"Bearer {token}"}
            start = time.monotonic()
            await asyncio.sleep(args.baseline)
            self.baseline = (start, time.monotonic())
            for name, path in reports(dt.date.today()):
                self.results.append(await self.ask(http, headers, name, path))
            burst = reports(dt.date.today())[3]
            started = time.monotonic()
            answers = await asyncio.gather(
                *(self.ask(http, headers, burst[0], burst[1]) for _ in range(args.burst))
            )
            self.results.append(
                {
                    "name": f"burst_{args.burst}_audit_csv",
                    "start": started,
                    "end": time.monotonic(),
                    "seconds": round(time.monotonic() - started, 2),
                    "statuses": sorted(a["status"] for a in answers),
                    "mb": round(sum(a["mb"] for a in answers), 2),
                }
            )
            await asyncio.sleep(TAIL_S)  # messages held up by the last report arrive

    async def ask(
        self, http: aiohttp.ClientSession, headers: dict[str, str], name: str, path: str
    ) -> dict[str, Any]:
        started = time.monotonic()
        async with http.get(self.args.admin_url + path, headers=headers) as response:
            answer = await response.read()
        ended = time.monotonic()
        result = {
            "name": name,
            "start": started,
            "end": ended,
            "seconds": round(ended - started, 2),
            "status": response.status,
            "mb": round(len(answer) / 1e6, 2),
        }
        if response.status != 200:
            result["code"] = json.loads(answer).get("code")
        print(f"{name}: {result}", file=sys.stderr, flush=True)
        return result


def figures(latencies: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(latencies, 50), 1),
        "p99": round(percentile(latencies, 99), 1),
        "max": round(max(latencies, default=float("nan")), 1),
        "samples": len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--audit-rows", type=int, default=500_000)
    parser.add_argument("--baseline", type=float, default=10.0, help="quiet seconds first")
    parser.add_argument("--burst", type=int, default=4, help="audit exports asked at once")
    parser.add_argument("--workers", type=int, default=1, help="load-generator processes")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument(
        "--relay-path", type=Path, default=None, help="run the relay of another checkout"
    )
    args = parser.parse_args()
    args.ramp, args.idle_ramp, args.seconds = RAMP_PER_S, IDLE_RAMP_PER_S, 3600.0
    fds = 3 * args.sessions + FD_HEADROOM
    raise_fd_limit(fds)
    data_dir = Path(tempfile.mkdtemp(prefix="telework-report-stall-"))
    report: dict[str, Any] = {"sessions": args.sessions, "audit_rows": args.audit_rows}
    try:
        t0 = time.monotonic()
        pairs = prepare(data_dir, args.sessions)
        with Directory.open(data_dir) as directory:
            _, password, secret = directory.add_admin(ADMIN, TENANT)
        sessions = fill_audit(
            data_dir, args.audit_rows, [p["host_id"] for p in pairs], [p["login"] for p in pairs]
        )
        report["audit_sessions"] = sessions
        print(f"prepared in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
        relay, host, port, fingerprint, args.metrics_url = start_relay(
            data_dir,
            args.loop,
            fds,
            args.relay_path,
            ("--admin-listen", "127.0.0.1:0"),
        )
        try:
            args.admin_url = read_admin_url(relay)
            reporter = Reporter(args, (password, secret), fingerprint)
            out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
            process = mp.Process(target=reporter.run, args=(out,))
            process.start()
            outcomes, _ = run_generators(
                args, (host, port, fingerprint), pairs, [], False, relay.pid, reporter.done
            )
            reporter.baseline, reporter.results, reporter.error = out.get(timeout=60)
            process.join(timeout=30)
        finally:
            relay.send_signal(signal.SIGTERM)
            relay.wait(timeout=60)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if reporter.error:
        report["error"] = reporter.error
    samples = [
        (at, ms) for o in outcomes for at, ms in zip(o["arrivals"], o["latencies"], strict=True)
    ]
    errors = [e for o in outcomes for e in o["errors"]]
    for error in sorted(set(errors))[:5]:
        print("error:", error, file=sys.stderr)
    report["errors"] = len(errors)
    lo, hi = reporter.baseline
    report["without_ms"] = figures([ms for at, ms in samples if lo <= at < hi])
    # A message held up by a report arrives after it: each report's samples are those that
    # arrived from its start to the next one's (the last: TAIL_S after its end).
    results = reporter.results
    ends = [r["start"] for r in results[1:]] + [results[-1]["end"] + TAIL_S] if results else []
    during: list[float] = []
    for result, end in zip(results, ends, strict=True):
        inside = [ms for at, ms in samples if result["start"] <= at < end]
        during += inside
        result["latency_ms"] = figures(inside)
        del result["start"], result["end"]
    report["during_ms"] = figures(during)
    report["added_ms_p99"] = round(report["during_ms"]["p99"] - report["without_ms"]["p99"], 1)
    report["added_ms_max"] = round(report["during_ms"]["max"] - report["without_ms"]["max"], 1)
    report["reports"] = reporter.results
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
