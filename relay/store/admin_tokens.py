"""Admin sign-ins as every relay node sees them: bearer tokens, stored by their SHA-256 digest.

Any node accepts a token any node issued, and a restart signs nobody out. The admin API makes
the tokens and their digests (:mod:`relay.admin.auth`); this keeps the rows: issued with a
bound on how many are kept (the oldest go first), looked up, deleted at sign-out, and the
expired ones deleted with each sign-in.

A token is looked up together with its admin: it stands for nothing once the admin is disabled
or deleted (even one issued while that change was being written), and the admin's role and
tenant are read as they are now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.admin_api import AdminRole
from relay.store.database import Database
from relay.store.errors import InvalidInput
from relay.store.schema import (
    DIGEST_LEN,
    MAX_LOGIN_LEN,
    MAX_TENANT_NAME_LEN,
    admin_tokens,
    admins,
    tenants,
)


@dataclass(frozen=True)
class AdminToken:
    """Whom a token signs in, and until when."""

    login: str
    tenant: str | None  # a tenant's admin's tenant; None for an operator
    expires_at: float
    role: AdminRole = AdminRole.TENANT_ADMIN  # as the admin's row says when looked up


class AdminTokens:
    """Admin bearer tokens, by digest."""

    _db: Database

    def add_admin_token(
        self, digest: str, token: AdminToken, *, max_tokens: int, now: float
    ) -> None:
        """Keep a new sign-in; past ``max_tokens`` live ones, the oldest are deleted."""
        if len(digest) != DIGEST_LEN or len(token.login) > MAX_LOGIN_LEN:
            raise InvalidInput("not a token digest or an admin login")
        if token.tenant is not None and len(token.tenant) > MAX_TENANT_NAME_LEN:
            raise InvalidInput("not a tenant name")
        if max_tokens < 1:
            raise InvalidInput("max_tokens must be positive")
        with self._db.write() as conn:
            conn.execute(sa.delete(admin_tokens).where(admin_tokens.c.expires_at <= now))
            conn.execute(
                sa.insert(admin_tokens).values(
                    digest=digest,
                    login=token.login,
                    tenant=token.tenant,
                    issued_at=now,
                    expires_at=token.expires_at,
                )
            )
            # The newest ``max_tokens`` stay (ties on issued_at broken by digest).
            cutoff = conn.execute(
                sa.select(admin_tokens.c.issued_at, admin_tokens.c.digest)
                .order_by(admin_tokens.c.issued_at.desc(), admin_tokens.c.digest.desc())
                .offset(max_tokens - 1)
                .limit(1)
            ).first()
            if cutoff is not None:
                conn.execute(sa.delete(admin_tokens).where(_older_than(cutoff)))

    def admin_token(self, digest: str) -> AdminToken | None:
        """The sign-in of a token's digest, expired or not, with its admin's tenant and role
        as they are now; None if there is none, or its admin is disabled or gone."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(
                    admin_tokens.c.login,
                    admin_tokens.c.expires_at,
                    admins.c.role,
                    tenants.c.name.label("tenant"),
                )
                .join(admins, admins.c.login == admin_tokens.c.login)
                .outerjoin(tenants, tenants.c.id == admins.c.tenant_id)
                .where(admin_tokens.c.digest == digest, ~admins.c.disabled)
            ).first()
        if row is None:
            return None
        return AdminToken(row.login, row.tenant, row.expires_at, AdminRole(row.role))

    def remove_admin_token(self, digest: str) -> None:
        """End a sign-in (nothing happens if it is gone already)."""
        with self._db.write() as conn:
            conn.execute(sa.delete(admin_tokens).where(admin_tokens.c.digest == digest))

    def remove_admin_tokens_of(self, login: str, *, keep: str = "") -> int:
        """End every sign-in of the admin ``login`` but the one with the digest ``keep``;
        how many were ended (expired ones included)."""
        with self._db.write() as conn:
            return int(
                conn.execute(
                    sa.delete(admin_tokens).where(
                        admin_tokens.c.login == login, admin_tokens.c.digest != keep
                    )
                ).rowcount
            )

    def count_admin_tokens(self) -> int:
        """Sign-ins kept (the expired ones not yet deleted included)."""
        with self._db.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(admin_tokens)).scalar_one()
            )


def _older_than(cutoff: Any) -> Any:
    """Rows after ``cutoff`` (issued_at, digest) in newest-first order."""
    issued, digest = admin_tokens.c.issued_at, admin_tokens.c.digest
    return (issued < cutoff.issued_at) | ((issued == cutoff.issued_at) & (digest < cutoff.digest))
