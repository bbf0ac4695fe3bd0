"""Errors of the relay package: each maps to a refusal code sent to the peer."""

from __future__ import annotations

from core.errors import Error
from core.protocol.control import RefusalReason


class RelayError(Error):
    """Base of errors raised on purpose by the relay."""


class Refusal(RelayError):
    """End the handshake with this reason (and, for a lockout, when to retry)."""

    def __init__(
        self,
        reason: RefusalReason,
        retry_after: int = 0,
        resume_ticket: str = "",
        checks: tuple[str, ...] = (),
        hours: tuple[str, ...] = (),
    ) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.retry_after = retry_after
        self.resume_ticket = resume_ticket
        self.checks = checks  # the home-PC checks that failed (core.homecheck.report.Check)
        self.hours = hours  # OUTSIDE_HOURS: the allowed hours, spans the relay checked


class StoreUnavailable(RelayError):
    """The directory could not be read or written (a full disk, a lost database): what was
    asked is refused with SERVER_ERROR, and the relay goes on serving what needs no write."""
