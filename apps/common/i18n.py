"""The apps' one translation mechanism: gettext catalogs read with Babel, one language setting.

Qt-free, so the CLIs and Qt-free code use it too. Each app has a gettext domain (``viewer``,
``host``, ``admin``) whose message IDs are keys, ``tr("key", **values)`` fills ``{name}``
fields; refusal and close reasons (``core.protocol`` codes) live once in the shared ``reasons``
domain, which every app's catalog falls back to. Sources are the ``.po`` files under
``resources/translations/<language>/LC_MESSAGES/``, read at run time (see :func:`translations`).
"""

from __future__ import annotations

import functools
import io
import locale
import os
import time
from gettext import NullTranslations

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from apps.common.resources import resource_path
from core.errors import PinMismatch
from core.homecheck.report import Check
from core.protocol.control import RefusalReason
from core.protocol.notices import CloseReason
from core.wake import WAKE_WAIT_S

DEFAULT_LANGUAGE = "en"
SHARED_DOMAIN = "reasons"
DOMAINS = ("viewer", "host", "admin", SHARED_DOMAIN)

# Codes a refusal may carry: the protocol's, and the pin check's (the host's wizard shows any
# other text, an OS error's, as it is).
REFUSAL_CODES = frozenset({*RefusalReason, PinMismatch.reason})
CLOSE_CODES = frozenset(CloseReason)
CHECKS = frozenset(Check)  # the home-PC checks, each with words (check_<name>) in reasons

# Where the OS says its language, the first one set wins; Windows sets none of these and
# answers through the C library's locale instead.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def pick_language(locale_name: str | None) -> str:
    """'ja' for a Japanese locale name (``ja_JP``, ``ja-JP``, ``Japanese_Japan``), else 'en'."""
    name = (locale_name or "").strip().lower()
    return "ja" if name.startswith(("ja", "japanese")) else DEFAULT_LANGUAGE


def system_language() -> str:
    """The OS locale's language: the first locale variable set, else the C library's locale."""
    for variable in LOCALE_VARIABLES:
        value = os.environ.get(variable)
        if value:
            return pick_language(value)
    return pick_language(locale.getlocale()[0])


_chosen: str | None = None


def set_language(language: str | None) -> None:
    """Every app's language from now on: 'ja', 'en' (or a locale name such as ``ja_JP``), or
    None to follow the OS again."""
    global _chosen
    _chosen = None if language is None else pick_language(language)


def current_language() -> str:
    return _chosen or system_language()


def read_catalog(domain: str, language: str) -> Catalog:
    """One domain's ``.po`` source in one language, as Babel reads it."""
    with resource_path("translations", language, "LC_MESSAGES", f"{domain}.po").open("rb") as f:
        return read_po(f, locale=language, domain=domain)


@functools.cache
def translations(domain: str, language: str) -> NullTranslations:
    """One domain's messages in one language, falling back to the shared reasons.

    Read from the ``.po`` source at run time rather than compiled to ``.mo`` at build time:
    the catalogs are a few hundred short entries (milliseconds, once per process), and a
    checkout, an editable install, a wheel and a frozen build then all run from the same
    files, with no compiled copy that can fall behind its source or be missing from a clone."""
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(domain, language))  # leaves fuzzy entries out, as msgfmt
    compiled.seek(0)
    result = Translations(compiled, domain=domain)
    if domain != SHARED_DOMAIN:
        result.add_fallback(translations(SHARED_DOMAIN, language))
    return result


class Translator:
    """``tr("key", **values)`` for one app's domain, in a fixed language or (None) in the one
    :func:`set_language` chose. A missing key shows as the key itself."""

    def __init__(self, domain: str, language: str | None = None) -> None:
        self.domain = domain
        self._fixed = None if language is None else pick_language(language)

    @property
    def language(self) -> str:
        return self._fixed or current_language()

    def __call__(self, key: str, **values: object) -> str:
        text = translations(self.domain, self.language).gettext(key)
        return text.format(**values) if values else text

    def knows(self, key: str) -> bool:
        return self(key) != key

    def refusal(
        self,
        reason: str,
        retry_after: int = 0,
        *,
        device_code: str = "",
        checks: tuple[str, ...] = (),
    ) -> str:
        """A refusal code in plain words; a lockout says when to try again (local HH:MM); an
        unregistered home PC, its code (``device_code``, the viewer's own) to pass on; a failed
        home-PC check, a line for each check that failed (``checks``, names of
        :class:`core.homecheck.report.Check`; others are left out); a code with no words of
        its own (a protocol or server error) gets the general ones."""
        if reason == RefusalReason.HOME_PC_CHECK_FAILED:
            lines = [self("check_item", check=self(f"check_{c}")) for c in checks if c in CHECKS]
            return "\n".join([self("refused_home_pc_check_failed"), *lines])
        if reason == RefusalReason.DEVICE_NOT_REGISTERED and device_code:
            return self("refused_device_not_registered_code", code=device_code)
        if reason == RefusalReason.LOCKED_OUT:
            if retry_after > 0:
                at = time.strftime("%H:%M", time.localtime(retry_after))
                return self("refused_locked_out", at=at)
            return self("refused_locked_out_soon")
        if reason == RefusalReason.WAKE_TIMEOUT:
            return self("refused_wake_timeout", minutes=round(WAKE_WAIT_S / 60))
        key = f"refused_{reason}"
        return self(key) if self.knows(key) else self("refused_other")

    def close_reason(self, reason: str) -> str:
        known = reason in CLOSE_CODES
        return self(f"closed_{reason}") if known else self("closed_unknown")
