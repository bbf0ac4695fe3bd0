"""The watermark's text: who, when, which office PC, which session (Qt-free).

Tiled over the picture when the office PC's policy sets a watermark text, so a photo of the
screen can be traced back. The session hash is a short digest of the relay's session ID: it
names the session in the audit log without showing the ID itself.
"""

from __future__ import annotations

import datetime as dt

from apps.common.session_tag import session_tag

# The session hash is the session tag the console looks sessions up by.
session_hash = session_tag


def watermark_lines(
    text: str, now: dt.datetime, user: str, host_name: str, session_id: str
) -> list[str]:
    """Two lines to tile, or none when the policy's watermark text is empty."""
    if not text.strip():
        return []
    return [
        f"{text.strip()}  {now:%Y-%m-%d %H:%M}",
        f"{user} @ {host_name}  #{session_hash(session_id)}",
    ]
