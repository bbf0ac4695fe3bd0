"""A relay with its admin API on an event loop of its own, in a background thread, for callers
that are synchronous (schemathesis) or run their own loop (the Qt console under qasync)."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

from relay.admin.server import start_admin_api
from tests.integration.admin.conftest import start_relay_with_identity


class RelayThread:
    """While it runs, Python's automatic cyclic GC is off: GC runs in whichever thread happens
    to allocate, and collecting a Qt object (left by a GUI test) on this thread crashes Qt.
    Garbage is collected on the caller's thread instead, before and after."""

    def __init__(self, tmp_path) -> None:
        gc.collect()
        gc.disable()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.relay, self.admin = self.run(self._start(tmp_path))

    async def _start(self, tmp_path):
        relay, identity = await start_relay_with_identity(tmp_path)
        admin = await start_admin_api(relay.server, identity, "127.0.0.1", 0)
        return relay, admin

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on the relay's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def close(self, channel: Any) -> None:
        """Close ``channel`` (a stream of this loop's) on the loop, where it lives: asyncio's
        streams are not thread-safe, and closed from the test's thread while the relay ended
        the session, one was seen half torn down (AttributeError inside asyncio's TLS)."""

        async def closing() -> None:
            channel.close()

        self.run(closing())

    def stop(self) -> None:
        self.run(self.admin.close())
        self.run(self.relay.server.close())
        self.relay.directory.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        gc.enable()
        gc.collect()
