"""Errors raised by the directory store. Messages are safe to show to an operator."""

from __future__ import annotations

from core.errors import Error, LocalError, PeerError


class StoreError(Error):
    """Base of every error raised on purpose by :mod:`relay.store`."""


class NotFound(StoreError, LocalError):
    """The tenant, user, host or grant named does not exist (in that tenant)."""


class AlreadyExists(StoreError, LocalError):
    """A tenant, user or host with that name or ID exists already."""


class InvalidInput(StoreError, LocalError):
    """A name, ID or parameter is empty, too long, malformed or out of range."""


class LastOperator(StoreError, LocalError):
    """The change would leave the relay without an enabled operator: nobody could add tenants
    or admins again but from the relay's own command line."""


class EnrollmentRefused(StoreError, PeerError):
    """A host's enrolment token was not accepted. ``reason`` is a safe code to send back."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
