"""Bookkeeping of the relay's live state: host control channels and joined sessions."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from core.protocol.control import SessionAnswer
from core.ratelimit import TokenBucket
from transport.link_stream import LinkStream, PeerGone


@dataclass
class HostChannel:
    """A host agent's control channel: how the relay reaches the host to offer sessions."""

    host_id: str
    tenant: str
    stream: LinkStream
    answers: dict[str, asyncio.Future[SessionAnswer]] = field(default_factory=dict)

    def fail_pending(self) -> None:
        for future in self.answers.values():
            if not future.done():
                future.set_exception(PeerGone("office PC went offline"))
        self.answers.clear()


@dataclass
class PendingAttach:
    """An accepted session waiting for the host's data connection."""

    host_id: str
    stream: asyncio.Future[LinkStream]
    over: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class LiveSession:
    """A joined viewer-host pair; the admin API and metrics read these."""

    session_id: str
    tenant: str
    user: str
    host_id: str
    device_fingerprint: str
    source: str
    started_at: float  # wall clock, for records
    started_mono: float = field(default_factory=time.monotonic)
    bytes_to_viewer: int = 0
    bytes_to_host: int = 0
    end_requested: asyncio.Event = field(default_factory=asyncio.Event)
    end_reason: str = ""
    buckets: tuple[TokenBucket, ...] = ()  # (to viewer, to host), set when forwarding starts
    resume_ticket: str = ""  # the viewer's, renewed while the session lives; never shown

    def count_to_viewer(self, nbytes: int) -> None:
        self.bytes_to_viewer += nbytes

    def count_to_host(self, nbytes: int) -> None:
        self.bytes_to_host += nbytes

    def request_end(self, reason: str) -> None:
        self.end_reason = reason
        self.end_requested.set()

    @property
    def duration_s(self) -> float:
        return time.monotonic() - self.started_mono
