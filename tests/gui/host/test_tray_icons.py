"""The icon files render (Qt's SVG plugin is there): a state's colour, not an empty pixmap."""

from __future__ import annotations

from apps.common.icons import app_icon, tray_icon


def test_tray_and_app_icons_are_drawn_from_their_svg_files(qapp):
    on_the_screen = (10, 20)  # inside the monitor shape, off any inner mark
    for icon, colour in (
        (tray_icon("waiting"), "#2e7d32"),
        (tray_icon("error"), "#c62828"),
        (tray_icon("not_enrolled"), "#9e9e9e"),  # looks offline
        (app_icon("telework-host"), "#ffffff"),
    ):
        image = icon.pixmap(64, 64).toImage()
        assert image.pixelColor(*on_the_screen).name() == colour
