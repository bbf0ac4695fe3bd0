"""What the admin console says: the ``admin`` catalog, in the language that
``apps.common.i18n.set_language`` chose at start-up."""

from __future__ import annotations

from apps.common.i18n import Translator

tr = Translator("admin")


def role_name(role: str) -> str:
    """An admin's role (``core.admin_api.AdminRole``) in words; one this console does not
    know, as it is."""
    key = f"role_{role}"
    return tr(key) if tr.knows(key) else role
