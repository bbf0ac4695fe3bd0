"""Firefox ESR on local pages: filling in a business form, and reading a long page (84 s each)."""

from __future__ import annotations

from bench.scenes import content
from bench.scenes.live import Program, Scene, Step, firefox, press, scroll, typing

FIREFOX_WINDOW = r"Mozilla Firefox"
PAGE_DOWN_TWICE = press("Page_Down", "Page_Down", gap_ms=600)

FORM = Scene(
    name="browser_form",
    description="Firefox: a telework application form filled in field by field",
    duration_s=84.0,
    make_content=lambda d: content.form_page(d / "form.html"),
    programs=[Program(firefox("form.html"), FIREFOX_WINDOW)],
    commands=("firefox-esr",),
    timeline=[
        Step(1.0, press("Tab")),
        Step(2.0, typing("Yamada Taro\tYAMADA TARO\tJohokikaku-ka\t2345\t")),
        Step(14.0, typing("2026-12-07\tPC-0421\t")),
        Step(22.0, press("Down", "Down", "Down", "Tab", gap_ms=400)),
        Step(26.0, typing("Drafting the budget table and checking mail. " * 2)),
        Step(42.0, scroll(8), "scroll"),
        Step(52.0, scroll(-8), "scroll"),
        Step(58.0, press("shift+Tab", "shift+Tab", gap_ms=500)),
        Step(60.0, typing(" (revised)")),
        Step(68.0, press("End"), "scroll"),
        Step(74.0, press("Home"), "scroll"),
    ],
)

LONG = Scene(
    name="browser_long",
    description="Firefox: a long regulations page read and scrolled by wheel and Page_Down",
    duration_s=84.0,
    make_content=lambda d: content.long_page(d / "long.html"),
    programs=[Program(firefox("long.html"), FIREFOX_WINDOW)],
    commands=("firefox-esr",),
    timeline=[
        *(Step(2.0 + 8 * i, scroll(5), "scroll") for i in range(4)),
        *(Step(34.0 + 8 * i, PAGE_DOWN_TWICE, "scroll") for i in range(3)),
        Step(58.0, press("ctrl+f")),
        Step(59.0, typing("緊急", 200)),
        Step(61.0, press("Return", "Escape", gap_ms=500), "scroll"),
        Step(68.0, press("End"), "scroll"),
        Step(74.0, press("Home"), "scroll"),
    ],
)
