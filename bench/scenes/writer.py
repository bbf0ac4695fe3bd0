"""LibreOffice Writer: typing Japanese through a real IME (fcitx5 + mozc, its candidate window
shown) and English into a twelve-page document, then paging back through it (100 s)."""

from __future__ import annotations

from bench.scenes import content
from bench.scenes.live import (
    IME_TOGGLE,
    Program,
    Scene,
    Step,
    ime_phrase,
    libreoffice,
    press,
    typing,
)

SCENE = Scene(
    name="writer",
    description="LibreOffice Writer: Japanese via fcitx5-mozc and English typing, page scroll",
    duration_s=100.0,
    make_content=lambda d: content.document(d / "document.fodt"),
    programs=[Program(libreoffice("--writer", "document.fodt"), r"LibreOffice Writer")],
    commands=("soffice",),
    ime=True,
    timeline=[
        Step(1.0, press("ctrl+End", "Return"), "scroll"),
        Step(3.0, typing("Telework requests reach the section head by 3 p.m. ")),
        Step(12.0, press(IME_TOGGLE)),
        Step(13.0, ime_phrase("zaitakukinmunoshinseiha")),
        Step(23.0, ime_phrase("zenjitsunoyuugatamadeniteishutsusuru.")),
        Step(36.0, press(IME_TOGGLE)),
        Step(37.0, typing("The viewer shows only the screen. ")),
        Step(45.0, press(IME_TOGGLE)),
        Step(46.0, ime_phrase("gyoumunaiyouwokisaisuru.")),
        Step(56.0, press(IME_TOGGLE)),
        Step(58.0, press("Page_Up", "Page_Up", "Page_Up", gap_ms=700), "scroll"),
        Step(66.0, press("Page_Up", "Page_Up", gap_ms=700), "scroll"),
        Step(74.0, press("ctrl+Home"), "scroll"),
        Step(80.0, press("Page_Down", "Page_Down", gap_ms=700), "scroll"),
        Step(90.0, press("ctrl+End"), "scroll"),
    ],
)
