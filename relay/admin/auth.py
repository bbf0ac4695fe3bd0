"""Admin sign-in sessions: short-lived bearer tokens held in memory, by digest.

A token is 256 random bits; only its SHA-256 digest is kept, so a memory dump of the relay
does not hand out live tokens. Tokens die after :data:`ADMIN_TOKEN_TTL_S` (no renewal: the
console signs in again) or at logout, and all of them when the relay restarts. The clock is
injected so tests expire tokens without waiting.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from relay.admin.errors import ErrorCode, Unauthorized

# How long a sign-in lasts: a working session at the console, short enough that a token left
# in a script or a terminal's history is soon worthless.
ADMIN_TOKEN_TTL_S = 30 * 60.0
# Random bytes in a token.
ADMIN_TOKEN_BYTES = 32
# Longest Authorization header value looked at.
MAX_TOKEN_TEXT = 128
# Live tokens at once; the oldest is dropped first (an admin signing in in a loop cannot grow
# the relay's memory).
MAX_ADMIN_TOKENS = 10_000


class Role(enum.StrEnum):
    OPERATOR = "operator"  # every tenant, and the relay-wide settings
    TENANT_ADMIN = "tenant_admin"  # one tenant only


@dataclass(frozen=True)
class AdminSession:
    login: str
    role: Role
    tenant: str | None  # the tenant of a tenant admin; None for an operator
    expires_at: float

    def may_see(self, tenant: str) -> bool:
        return self.role is Role.OPERATOR or self.tenant == tenant


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class AdminSessions:
    """Bearer tokens and what they stand for."""

    def __init__(
        self, clock: Callable[[], float] = time.time, ttl_s: float = ADMIN_TOKEN_TTL_S
    ) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._live: OrderedDict[str, AdminSession] = OrderedDict()

    def open(self, login: str, tenant: str | None) -> tuple[str, AdminSession]:
        token = secrets.token_urlsafe(ADMIN_TOKEN_BYTES)
        role = Role.OPERATOR if tenant is None else Role.TENANT_ADMIN
        session = AdminSession(login, role, tenant, self._clock() + self.ttl_s)
        self._live[_digest(token)] = session
        while len(self._live) > MAX_ADMIN_TOKENS:
            self._live.popitem(last=False)
        return token, session

    def check(self, token: str) -> AdminSession:
        """The session of a live token; :class:`Unauthorized` otherwise."""
        if not token or len(token) > MAX_TOKEN_TEXT:
            raise Unauthorized(
                "sign in first (missing or malformed bearer token)", ErrorCode.SIGN_IN_REQUIRED
            )
        key = _digest(token)
        session = self._live.get(key)
        if session is None:
            raise Unauthorized(
                "sign-in token is not valid; sign in again", ErrorCode.SIGN_IN_NOT_VALID
            )
        if session.expires_at <= self._clock():
            del self._live[key]
            raise Unauthorized(
                "sign-in token has expired; sign in again", ErrorCode.SIGN_IN_EXPIRED
            )
        return session

    def close(self, token: str) -> None:
        self._live.pop(_digest(token), None)

    def close_all_of(self, login: str) -> None:
        for key in [k for k, s in self._live.items() if s.login == login]:
            del self._live[key]
