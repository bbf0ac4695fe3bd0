"""Half-open connections: how many source addresses it takes to fill the relay's caps, and
what a half-open connection costs the relay in memory.

A relay runs in its own process (so its memory is its own) with a long handshake deadline, so
that connections which never send a byte stay half-open for the whole run. The client opens
TCP connections that send nothing, each source from its own loopback address (127.0.0.N:
every IPv4 address is a source of its own; IPv6 would be grouped by /64), ``--per-source + 1``
at a time, until a new source gets no slot at all. A connection is counted as admitted when
the relay has not closed it a moment later (a refused one is closed at once, before any TLS).

Last line: JSON with max_half_open, max_half_open_per_source, sources_to_fill (sources that
held a slot when the total cap was reached), admitted, admitted_per_source (the distinct
counts), relay_rss_mb_idle, relay_rss_mb_full and relay_kb_per_half_open.

    .venv/bin/python bench/half_open.py [--total N] [--per-source N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relay.settings import MAX_HALF_OPEN, MAX_HALF_OPEN_PER_SOURCE, RelaySettings

# A refused connection is closed within this; one still open after it was admitted.
SETTLE_S = 0.3
# Sources tried at most (127.0.0.2 upward): far more than any cap here needs.
MAX_SOURCES = 250


def _serve(total: int, per_source: int, ports: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    from core.crypto.certs import generate_identity
    from relay.server import RelayServer
    from relay.store.directory import Directory

    async def main() -> None:
        with tempfile.TemporaryDirectory() as data:
            directory = Directory.open(Path(data))
            settings = replace(
                RelaySettings(),
                handshake_timeout_s=600.0,
                max_half_open=total,
                max_half_open_per_source=per_source,
            )
            server = RelayServer(directory, generate_identity("relay"), settings)
            _, port = await server.start("127.0.0.1", 0)
            ports.put(port)
            while not stop.is_set():
                await asyncio.sleep(0.1)
            await server.close()
            directory.close()

    asyncio.run(main())


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _still_open(reader: asyncio.StreamReader) -> bool:
    try:
        data = await asyncio.wait_for(reader.read(1), 0.01)
    except TimeoutError:
        return True
    except (ConnectionError, OSError):
        return False
    return bool(data)


async def _fill(port: int, per_source: int) -> tuple[list[int], list[object]]:
    """Admitted connections per source, in order, until a source gets none; the open
    connections, to close at the end."""
    admitted: list[int] = []
    held: list[object] = []
    for n in range(2, 2 + MAX_SOURCES):
        source = f"127.0.0.{n}"
        opened = []
        for _ in range(per_source + 1):
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(source, 0)
                )
            except OSError:
                continue
            opened.append((reader, writer))
        await asyncio.sleep(SETTLE_S)
        alive = [pair for pair in opened if await _still_open(pair[0])]
        for pair in opened:
            if pair not in alive:
                pair[1].close()
        held.extend(alive)
        admitted.append(len(alive))
        if not alive:
            break
    return admitted, held


async def _run(total: int, per_source: int) -> dict[str, object]:
    ctx = mp.get_context("spawn")
    ports: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    stop = ctx.Event()
    relay = ctx.Process(target=_serve, args=(total, per_source, ports, stop))
    relay.start()
    try:
        port = await asyncio.to_thread(ports.get, True, 60)
        await asyncio.sleep(0.5)
        assert relay.pid is not None
        idle = _rss_mb(relay.pid)
        admitted, held = await _fill(port, per_source)
        full = _rss_mb(relay.pid)
        for _, writer in held:  # type: ignore[misc]
            writer.close()
    finally:
        stop.set()
        relay.join(30)
    filled = sum(admitted)
    holding = [count for count in admitted if count]
    return {
        "max_half_open": total,
        "max_half_open_per_source": per_source,
        "sources_to_fill": len(holding),
        "admitted": filled,
        "admitted_per_source": sorted(set(holding)),  # the distinct counts
        "relay_rss_mb_idle": round(idle, 1),
        "relay_rss_mb_full": round(full, 1),
        "relay_kb_per_half_open": round((full - idle) * 1024 / filled, 1) if filled else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=MAX_HALF_OPEN)
    parser.add_argument("--per-source", type=int, default=MAX_HALF_OPEN_PER_SOURCE)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args.total, args.per_source))))


if __name__ == "__main__":
    main()
