"""The one error hierarchy of ``core``.

Two families, kept apart because they are handled differently: :class:`PeerError` means the
other side broke the rules (close the connection with a reason code, never echo its text back),
:class:`LocalError` means we were misused or misconfigured (a bug or an operator mistake).
"""

from __future__ import annotations


class Error(Exception):
    """Base of every error raised on purpose by ``core``."""


class PeerError(Error):
    """The peer sent something we refuse. ``reason`` is a short, safe code for the close frame."""

    reason = "protocol_error"


class ProtocolError(PeerError):
    """Malformed or out-of-order bytes: bad header, unknown type, bad payload, illegal state."""


class FrameTooLarge(ProtocolError):
    """A frame announced a length above the connection's maximum."""

    reason = "frame_too_large"


class UnsupportedVersion(ProtocolError):
    """A frame carried a protocol version we do not speak."""

    reason = "unsupported_version"


class LocalError(Error):
    """We were called wrongly or are misconfigured."""


class CryptoError(Error):
    """A certificate, key or pin did not check out."""


class PinMismatch(CryptoError, PeerError):
    """The peer's certificate is not the one we pinned. Never continue without encryption."""

    reason = "pin_mismatch"
