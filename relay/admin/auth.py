"""Admin sign-in sessions: short-lived bearer tokens kept in the directory, by digest.

A token is 256 random bits; only its SHA-256 digest is stored, so neither the database nor a
memory dump of the relay hands out live tokens. Every relay node sharing the directory accepts
every node's tokens, and a restart signs nobody out. Tokens die after
:data:`ADMIN_TOKEN_TTL_S` (no renewal: the console signs in again) or at logout, which ends them
on every node, as does disabling, deleting or resetting the admin, or ending their sign-ins
(:mod:`relay.store.admins`). A token stands for its admin as they are now: their role and tenant
are read with it. The clock is injected so tests expire tokens without waiting.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.admin_api import AdminRole
from relay.admin.errors import ErrorCode, Unauthorized
from relay.store.admin_tokens import AdminToken
from relay.store.directory import Directory

# How long a sign-in lasts: a working session at the console, short enough that a token left
# in a script or a terminal's history is soon worthless.
ADMIN_TOKEN_TTL_S = 30 * 60.0
# Random bytes in a token.
ADMIN_TOKEN_BYTES = 32
# Longest Authorization header value looked at.
MAX_TOKEN_TEXT = 128
# Tokens kept in the directory at once; past it the oldest goes first (an admin signing in in a
# loop cannot grow the database), and expired ones go at every sign-in.
MAX_ADMIN_TOKENS = 10_000


Role = AdminRole  # operator, tenant_admin, auditor, helpdesk (see core.admin_api)


@dataclass(frozen=True)
class AdminSession:
    login: str
    role: Role
    tenant: str | None  # the tenant of a tenant's admin; None for an operator
    expires_at: float

    def may_see(self, tenant: str) -> bool:
        return self.role is Role.OPERATOR or self.tenant == tenant


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class AdminSessions:
    """Bearer tokens and what they stand for, in the directory (see the module docstring)."""

    def __init__(
        self,
        directory: Directory,
        db: Callable[..., Awaitable[Any]],
        clock: Callable[[], float] = time.time,
        ttl_s: float = ADMIN_TOKEN_TTL_S,
    ) -> None:
        self._directory = directory
        self._db = db  # runs a blocking directory call off the event loop
        self._clock = clock
        self.ttl_s = ttl_s

    async def open(self, login: str, tenant: str | None, role: Role) -> tuple[str, AdminSession]:
        token = secrets.token_urlsafe(ADMIN_TOKEN_BYTES)
        now = self._clock()
        kept = AdminToken(login, tenant, now + self.ttl_s, role)
        await self._db(
            self._directory.add_admin_token,
            _digest(token),
            kept,
            max_tokens=MAX_ADMIN_TOKENS,
            now=now,
        )
        return token, _session(kept)

    async def check(self, token: str) -> AdminSession:
        """The session of a live token; :class:`Unauthorized` otherwise."""
        if not token or len(token) > MAX_TOKEN_TEXT:
            raise Unauthorized(
                "sign in first (missing or malformed bearer token)", ErrorCode.SIGN_IN_REQUIRED
            )
        kept: AdminToken | None = await self._db(self._directory.admin_token, _digest(token))
        if kept is None:
            raise Unauthorized(
                "sign-in token is not valid; sign in again", ErrorCode.SIGN_IN_NOT_VALID
            )
        if kept.expires_at <= self._clock():
            raise Unauthorized(
                "sign-in token has expired; sign in again", ErrorCode.SIGN_IN_EXPIRED
            )
        return _session(kept)

    async def close(self, token: str) -> None:
        """End the sign-in of ``token`` on every node."""
        await self._db(self._directory.remove_admin_token, _digest(token))

    async def close_others(self, login: str, token: str) -> int:
        """End every sign-in of the admin ``login`` on every node but that of ``token``;
        how many were ended."""
        ended: int = await self._db(
            self._directory.remove_admin_tokens_of, login, keep=_digest(token)
        )
        return ended


def _session(kept: AdminToken) -> AdminSession:
    return AdminSession(kept.login, kept.role, kept.tenant, kept.expires_at)
