"""What the office PC's agent, tray and wizard say: the ``host`` catalog, in the language that
``apps.common.i18n.set_language`` chose (the OS's by default)."""

from __future__ import annotations

from apps.common.i18n import Translator

tr = Translator("host")
