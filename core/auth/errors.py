"""Errors raised by :mod:`core.auth`.

Verification functions never raise for bad *input* (a wrong, malformed or hostile code simply
does not verify); these errors mean the caller passed arguments that cannot be right.
"""

from __future__ import annotations

from core.errors import Error, LocalError


class AuthError(Error):
    """Base of every error raised on purpose by :mod:`core.auth`."""


class AuthArgumentError(AuthError, LocalError):
    """An argument is out of its documented range (a count, a cost, a limit, a secret)."""
