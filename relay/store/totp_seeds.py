"""Sealed TOTP seeds of staff and admins, the one check of a TOTP code against them, and the
login columns their rows share.

A seed is sealed with the :class:`SecretBox` under associated data naming its owner, so a
ciphertext moved to another row will not open. The check spends the same work when there is no
owner (a dummy seed), so the answer time does not say whether a login exists; the step it
returns is consumed with a compare-and-set update, so each code logs in once across processes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.auth.totp import new_totp_secret, verify_totp
from core.crypto.secret_box import SecretBox
from core.errors import CryptoError

_DUMMY_CONTEXT = b"telework/dummy"


def staff_context(tenant: str, login: str) -> bytes:
    """Associated data binding a sealed TOTP seed to its staff user."""
    return b"\0".join((b"telework/users.totp_secret/v1", tenant.encode(), login.encode()))


def admin_context(login: str) -> bytes:
    """Associated data binding a sealed TOTP seed to its admin."""
    return b"\0".join((b"telework/admins.totp_secret/v1", login.encode()))


class TotpSeeds:
    """Seals new TOTP seeds and checks codes against sealed ones."""

    def __init__(self, box: SecretBox) -> None:
        self._box = box
        # Opened for unknown logins so a check costs the same whether the login exists.
        self._dummy_sealed = box.seal(new_totp_secret().encode(), _DUMMY_CONTEXT)

    def new_seed(self, context: bytes) -> tuple[str, bytes]:
        """A fresh TOTP secret (to show once) and its sealed form (to store)."""
        secret = new_totp_secret()
        return secret, self._box.seal(secret.encode(), context)

    def check(
        self, sealed: bytes, context: bytes, otp: object, now: float, last_step: int | None
    ) -> int | None:
        """The time step ``otp`` is valid for under the sealed seed, later than ``last_step``;
        None if it is not or if the seed will not open."""
        try:
            secret = self._box.open(sealed, context)
        except CryptoError:
            return None  # a damaged or moved seed must not let anyone in
        return verify_totp(secret.decode(), _text(otp), now, last_step)

    def check_without_seed(self, otp: object, now: float) -> None:
        """Spend the work of :meth:`check` for a login that does not exist."""
        dummy = self._box.open(self._dummy_sealed, _DUMMY_CONTEXT).decode()
        verify_totp(dummy, _text(otp), now, None)


def _text(otp: object) -> str:
    """A presented code as text; anything else checks as the empty code, which never matches."""
    return otp if isinstance(otp, str) else ""


def new_login_columns(login: str, sealed: bytes, created: float) -> dict[str, Any]:
    """The columns a new staff user or admin row starts with: enabled, its seed never used."""
    return {
        "login": login,
        "totp_secret_sealed": sealed,
        "totp_last_step": None,
        "disabled": False,
        "created_at": created,
        "last_login_at": None,
    }


def consume_step(
    conn: sa.Connection,
    table: sa.Table,
    row_id: int,
    step: int,
    now: float,
    *conditions: sa.ColumnElement[bool],
) -> bool:
    """Record ``step`` as the row's last used TOTP step and ``now`` as its last login, if no
    equal or later step was used meanwhile and ``conditions`` hold; True if it was recorded."""
    last_step = table.c.totp_last_step
    consumed = conn.execute(
        sa.update(table)
        .where(table.c.id == row_id, sa.or_(last_step.is_(None), last_step < step), *conditions)
        .values(totp_last_step=step, last_login_at=now)
    ).rowcount
    return bool(consumed == 1)
