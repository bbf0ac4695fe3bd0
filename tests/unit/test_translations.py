"""The apps' catalogs: every message in Japanese and English, with the same fields to fill."""

from __future__ import annotations

import string

import pytest

from apps.common.i18n import (
    DOMAINS,
    LOCALE_VARIABLES,
    REFUSAL_CODES,
    Translator,
    pick_language,
    read_catalog,
    set_language,
    system_language,
)
from core.protocol.notices import CloseReason

# Messages that read the same in both languages (a unit, a separator).
# Words only in their values: the same in every language.
SAME_IN_BOTH = {("viewer", "status_rate"), ("host", "tooltip"), ("viewer", "session_title")}


def messages(domain: str, language: str) -> dict[str, str]:
    """msgid -> msgstr, fuzzy entries counted as missing (they are not used at run time)."""
    return {m.id: "" if m.fuzzy else m.string for m in read_catalog(domain, language) if m.id}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_exists_in_both_languages(domain):
    ja, en = messages(domain, "ja"), messages(domain, "en")
    assert ja, domain
    assert sorted(set(en) - set(ja)) == [], "missing in Japanese"
    assert sorted(set(ja) - set(en)) == [], "missing in English"
    for key in ja:
        assert ja[key] and en[key], (domain, key)
        assert ja[key] != en[key] or (domain, key) in SAME_IN_BOTH, (domain, key)
        assert fields(ja[key]) == fields(en[key]), (domain, key)


def test_refusal_and_close_reasons_are_shared_by_the_apps():
    for language in ("ja", "en"):
        viewer, host, admin = (Translator(d, language) for d in ("viewer", "host", "admin"))
        for code in REFUSAL_CODES:
            assert viewer.refusal(code) == host.refusal(code) == admin.refusal(code), code
        for code in CloseReason:
            assert viewer.close_reason(code) == host.close_reason(code), code
            assert viewer.close_reason(code) != viewer("closed_unknown"), code
    assert Translator("host", "en").refusal("bad_enrollment_token") == "Invalid enrolment token"


def test_one_language_setting_for_every_app():
    host, admin = Translator("host"), Translator("admin")
    set_language("ja_JP")
    assert host("menu_quit") == "終了" and admin("tab_staff") == "職員"
    set_language("en")
    assert host("menu_quit") == "Quit" and admin("tab_staff") == "Staff"
    assert Translator("host", "ja")("menu_quit") == "終了"  # a fixed language stays fixed
    assert host("no_such_key") == "no_such_key"


def test_the_os_language(monkeypatch):
    for variable in LOCALE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert system_language() == "ja"
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert system_language() == "en"
    assert pick_language("Japanese_Japan.932") == "ja" and pick_language(None) == "en"
