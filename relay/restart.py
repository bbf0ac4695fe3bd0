"""What a starting relay does about the sessions its previous run never ended (it was killed, or
the machine lost power): each gets its ``session_end``, reason ``relay_restart``, so usage
reports stop counting it as running.

When such a session really ended cannot be known; the last sign of life the relay has is the
newest audit record its previous run wrote (any record: a login, a host coming online, a
session's end), so the session is ended then — never before it started. A session cut while
the relay was idle for long is counted short rather than up to the restart.
"""

from __future__ import annotations

import logging

from relay.store.audit import MAX_AUDIT_LIMIT, SESSION_LOOKBACK_S
from relay.store.directory import Directory

log = logging.getLogger("telework.relay")

# The reason in the session_end records written here (usage reports read it).
RELAY_RESTART = "relay_restart"


def end_sessions_left_open(directory: Directory, now: float) -> int:
    """Record the end of every session started in the last SESSION_LOOKBACK_S that has none;
    returns how many there were. Called before the relay listens (nothing of ours is live).

    Only on a database no other relay uses (embedded SQLite): on a shared one the open
    sessions may be another relay's, alive, and the records do not say which relay holds a
    session (relay nodes that register themselves are what would tell; not built yet)."""
    if directory.shared:
        log.info("shared directory: sessions left open by a killed relay are not ended here")
        return 0
    since = now - SESSION_LOOKBACK_S
    ended = {
        record.detail.get("session")
        for record in directory.list_audit(event="session_end", since=since, limit=MAX_AUDIT_LIMIT)
    }
    left_open = [
        record
        for record in directory.list_audit(
            event="session_start", since=since, limit=MAX_AUDIT_LIMIT
        )
        if record.detail.get("session") not in ended
    ]
    last_sign_of_life = directory.newest_audit_ts() or now
    for start in left_open:
        end = max(start.ts, last_sign_of_life)
        directory.audit(
            "session_end",
            tenant=start.tenant,
            user=start.user,
            host_id=start.host_id,
            source=start.source,
            detail={
                "session": start.detail["session"],
                "reason": RELAY_RESTART,
                "duration_s": round(end - start.ts, 3),
                "recorded_at": now,  # the record's time is the session's end, not this
            },
            now=end,
        )
    if left_open:
        log.warning("%d sessions the previous run left open ended (relay_restart)", len(left_open))
    return len(left_open)
