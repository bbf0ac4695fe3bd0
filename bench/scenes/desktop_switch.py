"""A desk of four overlapping windows (Writer, Calc, Evince, Firefox) switched by Alt+Tab and
by bringing one to the front, with a little typing in each (94 s); and the same four programs
maximised, switched the same way (``MAXIMISED``: every window has the same rectangle, so only
the active window's identity tells a switch)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.scenes import content
from bench.scenes.live import (
    Desk,
    Program,
    Scene,
    Step,
    activate,
    firefox,
    libreoffice,
    press,
    scroll,
    typing,
)

# Overlapping, none maximised, like a real desk (x, y, w, h).
PLACES = [(40, 20, 1200, 980), (520, 80, 1340, 920), (260, 140, 1000, 900), (700, 40, 1180, 1000)]


def make_content(d: Path) -> None:
    content.document(d / "document.fodt")
    content.spreadsheet(d / "sheet.fods")
    content.pdf(d / "document.pdf")
    content.long_page(d / "long.html")


def arrange(desk: Desk) -> None:
    for wid, rect in zip(desk.windows, PLACES, strict=True):
        desk.place(wid, rect)
    first_in_front(desk)


def first_in_front(desk: Desk) -> None:
    desk.activate(desk.windows[0])


SCENE = Scene(
    name="desktop_switch",
    description="Four overlapping windows switched by Alt+Tab and by raising one, typing in each",
    duration_s=94.0,
    make_content=make_content,
    programs=[
        Program(libreoffice("--writer", "document.fodt"), r"document.*LibreOffice Writer"),
        Program(libreoffice("--calc", "sheet.fods"), r"LibreOffice Calc"),
        Program(lambda d: ["evince", str(d / "document.pdf")], r"^document\.pdf"),
        Program(firefox("long.html"), r"Mozilla Firefox"),
    ],
    commands=("soffice", "evince", "firefox-esr"),
    maximize=False,
    arrange=arrange,
    timeline=[
        Step(2.0, typing("Checked. ")),
        Step(6.0, press("alt+Tab"), "switch"),
        Step(9.0, scroll(4, 900, 500)),
        Step(14.0, activate(1), "switch"),
        Step(16.0, typing("1250\t3380\n")),
        Step(24.0, activate(2), "switch"),
        Step(27.0, press("ctrl+Page_Down"), "page"),
        Step(34.0, press("alt+Tab"), "switch"),
        Step(40.0, activate(0), "switch"),
        Step(42.0, typing("Sent to the section head. ")),
        Step(52.0, activate(3), "switch"),
        Step(55.0, press("Page_Down"), "scroll"),
        Step(62.0, press("alt+Tab"), "switch"),
        Step(68.0, activate(1), "switch"),
        Step(70.0, press("Page_Down"), "scroll"),
        Step(78.0, press("alt+Tab"), "switch"),
        Step(84.0, activate(0), "switch"),
    ],
)

MAXIMISED = replace(
    SCENE,
    name="desktop_maximised",
    description="The same four programs maximised, switched by Alt+Tab and by raising one",
    maximize=True,
    arrange=first_in_front,
)
