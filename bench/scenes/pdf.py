"""Evince paging through an eleven-page PDF made from the guideline document (76 s)."""

from __future__ import annotations

from bench.scenes import content
from bench.scenes.live import Program, Scene, Step, press, scroll

SCENE = Scene(
    name="pdf",
    description="Evince: paging through a PDF, a zoom change, wheel scrolling",
    duration_s=76.0,
    make_content=lambda d: content.pdf(d / "document.pdf"),
    programs=[Program(lambda d: ["evince", str(d / "document.pdf")], r"document")],
    commands=("evince", "soffice"),
    timeline=[
        *(Step(2.0 + 6 * i, press("ctrl+Page_Down"), "page") for i in range(5)),
        Step(32.0, press("ctrl+plus"), "switch"),
        *(Step(38.0 + 6 * i, scroll(6), "scroll") for i in range(3)),
        Step(56.0, press("ctrl+minus"), "switch"),
        Step(62.0, press("ctrl+Home"), "page"),
        Step(66.0, press("ctrl+End"), "page"),
    ],
)
