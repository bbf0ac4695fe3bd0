"""LibreOffice Calc: data entry, scrolling a large sheet, switching sheets (96 s)."""

from __future__ import annotations

from bench.scenes import content
from bench.scenes.live import Program, Scene, Step, libreoffice, press, scroll, typing

ENTRY = "Telework\t1250\t3380\t4120\t990\t2760\t3315\n"

SCENE = Scene(
    name="calc",
    description="LibreOffice Calc: data entry, paging down a 600-row sheet, switching sheets",
    duration_s=96.0,
    make_content=lambda d: content.spreadsheet(d / "sheet.fods"),
    programs=[Program(libreoffice("--calc", "sheet.fods"), r"LibreOffice Calc")],
    commands=("soffice",),
    timeline=[
        Step(1.0, press("ctrl+Home")),
        Step(2.0, typing(ENTRY * 3)),
        Step(24.0, press("Page_Down", "Page_Down", "Page_Down", gap_ms=700), "scroll"),
        Step(34.0, press("Page_Down", "Page_Down", gap_ms=700), "scroll"),
        Step(44.0, press("ctrl+Page_Down"), "switch"),
        Step(47.0, typing(ENTRY * 2)),
        Step(62.0, press("ctrl+End"), "scroll"),
        Step(70.0, press("ctrl+Page_Down"), "switch"),
        Step(76.0, scroll(12), "scroll"),
        Step(84.0, press("ctrl+Page_Up", "ctrl+Page_Up", gap_ms=300), "switch"),
    ],
)
