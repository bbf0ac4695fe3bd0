"""The corpus of real-application scenes, by name (bench/bandwidth.py --scene NAME / --all)."""

from __future__ import annotations

from bench.scenes import browser, calc, desktop_switch, pdf, writer
from bench.scenes.live import Scene

CORPUS: dict[str, Scene] = {
    s.name: s
    for s in (
        calc.SCENE,
        writer.SCENE,
        browser.FORM,
        browser.LONG,
        pdf.SCENE,
        desktop_switch.SCENE,
        desktop_switch.MAXIMISED,
    )
}
