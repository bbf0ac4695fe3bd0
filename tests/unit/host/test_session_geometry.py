"""The session's picture geometry: where the viewer's pointer lands, and where the cursor shows."""

from __future__ import annotations

from apps.host.session_core import MAX_PENDING_GEOMETRIES, PointerMapping, cursor_position
from core.input.pointer import ScreenMap
from core.media.cursor import CursorPosition

TOP = ScreenMap(0, 0, 1920, 1080, 1920, 1080)
BOTTOM = ScreenMap(0, 1080, 1920, 1080, 1920, 1080)  # stacked below TOP
BOTTOM_ECONOMY = ScreenMap(0, 1080, 1920, 1080, 1280, 720)


def sent(mapping: PointerMapping, *screens: ScreenMap, first: int = 0) -> None:
    for index, screen in enumerate(screens, first):
        mapping.on_frame_sent(index, screen)


def test_a_new_geometry_applies_once_the_viewer_has_its_first_frame() -> None:
    mapping = PointerMapping(TOP)
    sent(mapping, TOP, TOP, BOTTOM, BOTTOM)  # frame 2 is the switch's keyframe
    assert not mapping.on_viewer_has(1) and mapping.screen == TOP
    assert mapping.on_viewer_has(3) and mapping.screen == BOTTOM
    assert not mapping.on_viewer_has(3)  # a repeated report changes nothing


def test_a_viewer_several_geometries_behind_moves_through_them_in_order() -> None:
    mapping = PointerMapping(TOP)
    sent(mapping, TOP, BOTTOM, BOTTOM_ECONOMY, TOP)
    assert mapping.on_viewer_has(1) and mapping.screen == BOTTOM
    assert mapping.on_viewer_has(2) and mapping.screen == BOTTOM_ECONOMY
    assert mapping.on_viewer_has(3) and mapping.screen == TOP


def test_a_report_of_a_frame_never_sent_changes_nothing() -> None:
    mapping = PointerMapping(TOP)
    sent(mapping, TOP, BOTTOM)
    for lie in (2, 2**32 - 1):
        assert not mapping.on_viewer_has(lie)
        assert mapping.screen == TOP
    assert mapping.on_viewer_has(1) and mapping.screen == BOTTOM


def test_pending_geometries_are_bounded_and_the_newest_still_applies() -> None:
    mapping = PointerMapping(TOP)
    flips = 10 * MAX_PENDING_GEOMETRIES
    sent(mapping, *[(TOP, BOTTOM)[i % 2] for i in range(flips)])
    assert len(mapping._pending) == MAX_PENDING_GEOMETRIES
    assert mapping.on_viewer_has(flips - 1) and mapping.screen == BOTTOM


def test_the_cursor_shows_only_on_the_monitor_shown() -> None:
    assert cursor_position(BOTTOM, 100, 1100) == CursorPosition(100, 20, True)
    assert not cursor_position(BOTTOM, 100, 500).visible  # on the monitor above
    assert not cursor_position(TOP, 100, 1500).visible  # on the monitor below
    assert not cursor_position(TOP, 2000, 100).visible  # on one beside
    assert cursor_position(BOTTOM_ECONOMY, 1919, 2159) == CursorPosition(1279, 719, True)
