"""Every limit and timeout of the relay, named in one place (SECURITY.md lists them).

The values are defaults for :class:`RelaySettings`; tests scale the timeouts down instead of
sleeping for real.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.protocol.control import DEAD_AFTER_S, KEEPALIVE_INTERVAL_S
from core.protocol.session import SESSION_BUDGET_BPS
from core.wake import WAKE_PROGRESS_INTERVAL_S, WAKE_WAIT_S

# Each side of a session is paced to the office network's per-session budget.
SESSION_RATE_BPS = SESSION_BUDGET_BPS
# Burst above the average the bucket lets through at once: one coarse first frame (~8 kB)
# plus cursor and input traffic, without adding queueing delay to it.
SESSION_BURST_BYTES = 16 * 1024
# A connection must finish TLS and send its first message within this time, or it is dropped.
HANDSHAKE_TIMEOUT_S = 10.0
# Connections that have not yet authenticated (TLS or first message pending), in total. A
# silent half-open connection costs the relay ~14 kB (bench/half_open.py): 4096 of them ~56 MB.
# With 512 and 64 per source, 8 addresses filled every slot (for the handshake deadline, then
# again); now it takes MAX_HALF_OPEN / MAX_HALF_OPEN_PER_SOURCE = 128 (SECURITY.md).
MAX_HALF_OPEN = 4096
# ... and from one source: one client cannot take every half-open slot and lock everyone out,
# while a town hall's NAT still has room for its office PCs reconnecting at once (a slot is
# held only for a TLS handshake and one message, milliseconds; they back off and retry when
# refused).
MAX_HALF_OPEN_PER_SOURCE = 32
# A source address an office PC's control channel was online from this recently (a
# municipality's NAT) is never refused for a login lockout before its TLS handshake: office
# PCs are never locked out by address. Other locked sources are closed before any TLS work.
OFFICE_PC_SOURCE_WINDOW_S = 24 * 3600.0
# Open connections from one source address (a municipality's NAT hides many hosts behind one
# address, so this is generous; it stops one client from exhausting the relay).
MAX_CONNECTIONS_PER_SOURCE = 4096
# How long a host may take to accept or refuse a viewer, and to attach its data connection.
HOST_ANSWER_TIMEOUT_S = 15.0
ATTACH_TIMEOUT_S = 10.0
# When an admin ends a session, the host gets this long to close it with a reason the viewer
# can show, before the relay cuts both streams.
END_GRACE_S = 3.0
# An office PC that cut a session (idle, longest length: core.protocol.notices.HOST_CUTS) says
# so on its control channel; the report may arrive after the session's data connection closed
# (another connection, or another node of a cluster). The relay keeps the ticket of a session
# that ended this long, so a late report still ends it.
HOST_CUT_REPORT_WINDOW_S = 30.0
# A resume ticket lets a viewer reconnect after a network drop without a new OTP, for this long
# after its session ended (or after a refusal handed it back).
RESUME_TICKET_TTL_S = 10 * 60
# While its session runs, the session's ticket is renewed this often (to RESUME_TICKET_TTL_S from
# then), so a drop after hours of work can still resume; a relay that dies mid-session leaves it
# valid no longer than that after the last renewal.
RESUME_TICKET_RENEW_S = RESUME_TICKET_TTL_S / 2
# A login that resumes a session (with its ticket) waits this long for its office PC to come back
# online before it is refused as offline: both reconnect after a relay restart, and the office
# PC may be a few seconds behind. Bounded by the per-source connection caps like any login.
RESUME_HOST_WAIT_S = 10.0
# A session side whose peer takes longer than this to accept bytes already due (it stopped
# reading, or its link died without a reset) ends the session instead of holding it forever.
FORWARD_STALL_TIMEOUT_S = 30.0
# Bytes of a session side held for its pace (they came faster than the session's rate) before
# the source stops being read: a short burst is held without pausing the socket.
MAX_HELD_BYTES = 64 * 1024
# Transport write buffer high-water mark: past it, drain() waits and the reader stops reading.
WRITE_HIGH_WATER_BYTES = 64 * 1024
# Connections the kernel queues for the relay to accept: office PCs reconnecting at once after
# a network outage arrive in thousands (the half-open caps then apply to each).
LISTEN_BACKLOG = 4096
# A draining node (SIGTERM) moves its idle office PCs to other nodes at most this many per tick
# of DRAIN_TICK_S, so they do not all reconnect in the same second, and lets live sessions run
# up to DRAIN_TIMEOUT_S before it cuts them (their viewers resume elsewhere with their tickets).
DRAIN_MOVES_PER_TICK = 500
DRAIN_TICK_S = 1.0
DRAIN_TIMEOUT_S = 15 * 60.0
# The relay's key and self-signed certificate in its data directory: relay.key, relay.crt.
RELAY_IDENTITY_STEM = "relay"
RELAY_COMMON_NAME = "telework-relay"


@dataclass(frozen=True)
class RelaySettings:
    session_rate_bps: int = SESSION_RATE_BPS
    session_burst_bytes: int = SESSION_BURST_BYTES
    handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S
    max_half_open: int = MAX_HALF_OPEN
    max_half_open_per_source: int = MAX_HALF_OPEN_PER_SOURCE
    max_connections_per_source: int = MAX_CONNECTIONS_PER_SOURCE
    keepalive_interval_s: float = KEEPALIVE_INTERVAL_S
    dead_after_s: float = DEAD_AFTER_S
    host_answer_timeout_s: float = HOST_ANSWER_TIMEOUT_S
    attach_timeout_s: float = ATTACH_TIMEOUT_S
    resume_ticket_ttl_s: int = RESUME_TICKET_TTL_S
    resume_ticket_renew_s: float = RESUME_TICKET_RENEW_S
    end_grace_s: float = END_GRACE_S
    resume_host_wait_s: float = RESUME_HOST_WAIT_S
    wake_wait_s: float = WAKE_WAIT_S
    wake_progress_interval_s: float = WAKE_PROGRESS_INTERVAL_S
    # Load balancers whose connections start with a PROXY v2 header naming the client
    # (``serve --trusted-proxy``); from anyone else such a header is garbage.
    trusted_proxies: frozenset[str] = frozenset()
