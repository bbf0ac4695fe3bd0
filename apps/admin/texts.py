"""What the admin console says: the ``admin`` catalog, in the language that
``apps.common.i18n.set_language`` chose at start-up."""

from __future__ import annotations

from apps.common.i18n import Translator

tr = Translator("admin")
