"""Errors of the admin API, each with the HTTP status it is answered with.

The message is what the client reads in ``{"error": "..."}``: written for an admin, and never
containing anything of another tenant or a secret.
"""

from __future__ import annotations

from relay.errors import RelayError


class ApiError(RelayError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFoundError(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class LockedOut(ApiError):
    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
