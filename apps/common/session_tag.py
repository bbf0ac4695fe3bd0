"""The session tag: how a watermark names its session (Qt-free).

``#`` and the first eight hex digits of the SHA-256 of the relay's session ID: the viewer and
the office PC tile it over the picture, and the admin console finds the session in the audit log
by it, without the watermark showing the session ID itself."""

from __future__ import annotations

import hashlib

SESSION_TAG_CHARS = 8


def session_tag(session_id: str) -> str:
    """The tag's hex digits (without the ``#``)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:SESSION_TAG_CHARS]
