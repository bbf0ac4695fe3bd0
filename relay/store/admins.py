"""Administrators of the admin API and console, each with a password, a TOTP seed and a role
(:class:`core.admin_api.AdminRole`): operators (every tenant), and a tenant's admins, auditors
and helpdesk admins; and their lifecycle: disabled or enabled, deleted, a new password or TOTP
seed (shown once), their sign-ins ended.

Every change that takes an admin's access away (disabling, deleting, a reset, a new role) ends
their sign-ins in the same transaction, on every relay node (the tokens are rows here). The last
enabled operator can be neither disabled nor deleted (:class:`LastOperator`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from core.admin_api import TENANT_ROLES, AdminRole
from core.auth.passwords import DUMMY_HASH, hash_password, verify_password
from relay.store.database import Database
from relay.store.errors import AlreadyExists, InvalidInput, LastOperator, NotFound
from relay.store.inputs import canonical_login, canonical_tenant
from relay.store.schema import admin_tokens, admins, tenants
from relay.store.tenants import require_tenant
from relay.store.totp_seeds import TotpSeeds, admin_context, consume_step, new_login_columns

# Random bytes of an admin's initial password: 120 bits, 20 URL-safe characters to type once.
ADMIN_PASSWORD_BYTES = 15


@dataclass(frozen=True)
class Admin:
    login: str
    tenant: str | None  # None: an operator, who administers every tenant
    disabled: bool
    created_at: float
    last_login_at: float | None
    role: AdminRole = AdminRole.TENANT_ADMIN


def checked_role(role: str, tenant: str | None) -> AdminRole:
    """``role`` as an :class:`AdminRole`, if it fits ``tenant``: an operator has none, every
    other role one; :class:`InvalidInput` otherwise."""
    try:
        checked = AdminRole(role)
    except ValueError:
        raise InvalidInput(f"no admin role {role!r}") from None
    if (checked is AdminRole.OPERATOR) != (tenant is None):
        raise InvalidInput("an operator has no tenant; every other admin has one")
    return checked


class Admins:
    """Adding, finding, authenticating and managing administrators."""

    _db: Database
    _seeds: TotpSeeds

    def add_admin(
        self,
        login: str,
        tenant: str | None,
        *,
        role: str | None = None,
        now: float | None = None,
    ) -> tuple[Admin, str, str]:
        """Create an operator (``tenant`` None) or an admin of ``tenant`` with ``role``
        (default: tenant admin).

        Returns the admin, their initial password and their TOTP secret, each shown once.
        """
        login = canonical_login(login)
        tenant = None if tenant is None else canonical_tenant(tenant)
        if role is None:
            role = AdminRole.OPERATOR if tenant is None else AdminRole.TENANT_ADMIN
        checked = checked_role(role, tenant)
        created = self._db.now(now)
        password = secrets.token_urlsafe(ADMIN_PASSWORD_BYTES)
        password_hash = hash_password(password)  # slow: outside any write transaction
        secret, sealed = self._seeds.new_seed(admin_context(login))
        try:
            with self._db.write() as conn:
                tenant_id = None if tenant is None else require_tenant(conn, tenant)
                if _admin_row(conn, login) is not None:
                    raise AlreadyExists(f"admin {login!r} already exists")
                _end_sign_ins(conn, login)  # none of an earlier admin of that login lives on
                conn.execute(
                    sa.insert(admins).values(
                        tenant_id=tenant_id,
                        password_hash=password_hash,
                        role=checked.value,
                        **new_login_columns(login, sealed, created),
                    )
                )
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"admin {login!r} already exists") from None
        return Admin(login, tenant, False, created, None, checked), password, secret

    def list_admins(self, tenant: str | None = None) -> list[Admin]:
        """Every admin (``tenant`` None) or those of ``tenant``, by login."""
        query = (
            sa.select(admins, tenants.c.name.label("tenant"))
            .outerjoin(tenants, tenants.c.id == admins.c.tenant_id)
            .order_by(admins.c.login)
        )
        with self._db.read() as conn:
            if tenant is not None:
                query = query.where(admins.c.tenant_id == require_tenant(conn, tenant))
            return [_admin(row) for row in conn.execute(query)]

    def set_admin_disabled(self, login: str, disabled: bool) -> Admin:
        """Disable (their sign-ins end) or enable an admin; :class:`LastOperator` for the
        last enabled operator. Enabling a disabled admin ends any sign-in too: one kept while
        they were being disabled must not come back to life."""
        with self._db.write() as conn:
            row = _require_admin(conn, login)
            if disabled:
                _keep_an_operator(conn, row)
            if disabled or row.disabled:  # enabling an enabled admin signs nobody out
                _end_sign_ins(conn, row.login)
            conn.execute(sa.update(admins).where(admins.c.id == row.id).values(disabled=disabled))
        return replace(_admin(row), disabled=disabled)

    def set_admin_role(self, login: str, role: str) -> Admin:
        """Give a tenant's admin another of the tenant roles; their sign-ins end (what their
        console shows was for the old role). An operator's role does not change."""
        with self._db.write() as conn:
            row = _require_admin(conn, login)
            checked = checked_role(role, row.tenant)
            if checked not in TENANT_ROLES:
                raise InvalidInput("an operator's role does not change")
            if checked != row.role:
                _end_sign_ins(conn, row.login)
                conn.execute(
                    sa.update(admins).where(admins.c.id == row.id).values(role=checked.value)
                )
        return replace(_admin(row), role=checked)

    def delete_admin(self, login: str) -> Admin:
        """Delete an admin and end their sign-ins (the audit log stays); the admin deleted.
        :class:`LastOperator` for the last enabled operator."""
        with self._db.write() as conn:
            row = _require_admin(conn, login)
            _keep_an_operator(conn, row)
            _end_sign_ins(conn, row.login)
            conn.execute(sa.delete(admins).where(admins.c.id == row.id))
        return _admin(row)

    def reset_admin_password(self, login: str) -> tuple[Admin, str]:
        """A new random password for the admin (returned once; the old one stops working)
        and their sign-ins end."""
        password = secrets.token_urlsafe(ADMIN_PASSWORD_BYTES)
        password_hash = hash_password(password)  # slow: outside any write transaction
        with self._db.write() as conn:
            row = _require_admin(conn, login)
            _end_sign_ins(conn, row.login)
            conn.execute(
                sa.update(admins).where(admins.c.id == row.id).values(password_hash=password_hash)
            )
        return _admin(row), password

    def reset_admin_totp(self, login: str) -> tuple[Admin, str]:
        """A new TOTP seed for the admin (the secret returned once; the old authenticator
        stops working) and their sign-ins end."""
        canonical = _canonical_or_not_found(login)
        secret, sealed = self._seeds.new_seed(admin_context(canonical))
        with self._db.write() as conn:
            row = _require_admin(conn, canonical)
            _end_sign_ins(conn, row.login)
            conn.execute(
                sa.update(admins)
                .where(admins.c.id == row.id)
                .values(totp_secret_sealed=sealed, totp_last_step=None)
            )
        return _admin(row), secret

    def end_admin_sign_ins(self, login: str) -> tuple[Admin, int]:
        """End every sign-in of the admin, on every relay node; the admin and how many."""
        with self._db.write() as conn:
            row = _require_admin(conn, login)
            ended = _end_sign_ins(conn, row.login)
        return _admin(row), ended

    def get_admin(self, login: str) -> Admin | None:
        try:
            login = canonical_login(login)
        except InvalidInput:
            return None
        with self._db.read() as conn:
            row = _admin_row(conn, login)
        return None if row is None else _admin(row)

    def authenticate_admin(self, login: str, password: str, otp: str, now: float) -> Admin | None:
        """The admin if password and TOTP are right (the TOTP step is consumed); else None.

        Spends the same work on an unknown login (a dummy hash and seed), so the answer time
        does not tell which logins exist. A disabled admin never authenticates.
        """
        row, password_ok = self._admin_with_password(login, password)
        if row is None:
            self._seeds.check_without_seed(otp, now)
            return None
        context = admin_context(row.login)
        step = self._seeds.check(row.totp_secret_sealed, context, otp, now, row.totp_last_step)
        if not password_ok or step is None or row.disabled:
            return None
        with self._db.write() as conn:
            consumed = consume_step(conn, admins, row.id, step, now)
        return _admin(row, last_login_at=now) if consumed else None

    def change_admin_password(self, login: str, current: str, new: str) -> bool:
        """Give the admin the password ``new`` if ``current`` is theirs now; False (nothing
        changed) if it is not, or there is no such admin, or they are disabled. The same work
        either way; ``new`` is hashed as it is (its rules are the caller's)."""
        row, current_ok = self._admin_with_password(login, current)
        new_hash = hash_password(new)  # slow: outside any write transaction
        if row is None or not current_ok or row.disabled:
            return False
        with self._db.write() as conn:
            # Compare-and-set: two changes at once cannot both think they won.
            changed = conn.execute(
                sa.update(admins)
                .where(admins.c.id == row.id, admins.c.password_hash == row.password_hash)
                .values(password_hash=new_hash)
            ).rowcount
        return changed == 1

    def _admin_with_password(self, login: str, password: object) -> tuple[Any, bool]:
        """The admin's row (None if there is no such login) and whether ``password`` is
        theirs: a password is hashed either way (a dummy one for an unknown login), so the
        answer time does not tell which logins exist."""
        try:
            login = canonical_login(login)
        except InvalidInput:
            login = ""
        row = None
        if login:
            with self._db.read() as conn:
                row = _admin_row(conn, login)
        matches = verify_password(
            password if isinstance(password, str) else "",
            DUMMY_HASH if row is None else row.password_hash,
        )
        return row, matches


def _canonical_or_not_found(login: str) -> str:
    try:
        return canonical_login(login)
    except InvalidInput:
        raise NotFound("no such admin") from None


def _require_admin(conn: sa.Connection, login: str) -> sa.Row[Any]:
    """The admin's row; :class:`NotFound` if there is none."""
    row = _admin_row(conn, _canonical_or_not_found(login))
    if row is None:
        raise NotFound("no such admin")
    return row


def _keep_an_operator(conn: sa.Connection, row: sa.Row[Any]) -> None:
    """:class:`LastOperator` if ``row`` is the last enabled operator (checked in the write
    transaction, which is the only writer: two operators cannot remove each other at once)."""
    if row.tenant_id is not None or row.disabled:
        return
    others = conn.execute(
        sa.select(sa.func.count())
        .select_from(admins)
        .where(admins.c.tenant_id.is_(None), ~admins.c.disabled, admins.c.id != row.id)
    ).scalar_one()
    if not others:
        raise LastOperator("the last enabled operator cannot be disabled or deleted")


def _end_sign_ins(conn: sa.Connection, login: str) -> int:
    """Delete every sign-in token of the admin ``login``; how many there were."""
    return int(conn.execute(sa.delete(admin_tokens).where(admin_tokens.c.login == login)).rowcount)


def _admin_row(conn: sa.Connection, login: str) -> sa.Row[Any] | None:
    return conn.execute(
        sa.select(admins, tenants.c.name.label("tenant"))
        .outerjoin(tenants, tenants.c.id == admins.c.tenant_id)
        .where(admins.c.login == login)
    ).first()


def _admin(row: sa.Row[Any], last_login_at: float | None = None) -> Admin:
    return Admin(
        row.login,
        row.tenant,
        bool(row.disabled),
        row.created_at,
        row.last_login_at if last_login_at is None else last_login_at,
        AdminRole(row.role),
    )
