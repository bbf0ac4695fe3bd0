import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ProtocolError
from core.protocol.notices import (
    HostScreens,
    IdleWarning,
    Monitor,
    SessionPolicy,
    ShutdownWarning,
    ViewerChoice,
    make_notice,
    parse_host_screens,
    parse_notice,
    parse_viewer_choice,
)
from core.protocol.session import Notice, Role, ScreenInfo, SessionChannel


@pytest.mark.parametrize(
    "body",
    [
        SessionPolicy("2026-11-26 tanaka PC-01 3f2a", False, 600, 0),
        ShutdownWarning("22:00", 10),
        IdleWarning(60),
    ],
)
def test_notices_round_trip_through_the_wire(body):
    host, viewer = SessionChannel(Role.HOST), SessionChannel(Role.VIEWER)
    (received,) = viewer.receive_data(host.send(make_notice(body)))
    assert parse_notice(received) == body


def test_screens_and_choice_round_trip():
    screens = HostScreens(
        "PC-01", (Monitor(0, 0, 0, 1920, 1080), Monitor(1, 1920, 0, 1280, 1024)), 1
    )
    assert parse_host_screens(screens.message()) == screens
    assert parse_viewer_choice(ViewerChoice(1, True).message()) == ViewerChoice(1, True)
    assert parse_viewer_choice(ScreenInfo({"monitor": 0})) == ViewerChoice(0, False)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "clipboard", "text": "x"},
        {"kind": "idle_warning"},
        {"kind": "idle_warning", "seconds_left": "60"},
        {"kind": "idle_warning", "seconds_left": True},
        {"kind": "shutdown_warning", "at": "x" * 1000, "minutes_left": 1},
        {"kind": "idle_warning", "seconds_left": 2**40},
    ],
)
def test_bad_notices_raise_protocol_error(body):
    with pytest.raises(ProtocolError):
        parse_notice(Notice(body))


@pytest.mark.parametrize(
    "body",
    [
        {"host_name": "pc", "active": 0, "monitors": []},
        {
            "host_name": "pc",
            "active": 1,
            "monitors": [{"index": 0, "left": 0, "top": 0, "width": 1, "height": 1}],
        },
        {"host_name": "pc", "active": 0, "monitors": [5]},
        {"host_name": "pc", "active": 0, "monitors": "no"},
    ],
)
def test_bad_screen_info_raises_protocol_error(body):
    with pytest.raises(ProtocolError):
        parse_host_screens(ScreenInfo(body))


@given(
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(
            st.none(), st.integers(), st.text(max_size=5), st.booleans(), st.lists(st.integers())
        ),
    )
)
def test_any_body_parses_or_raises_protocol_error(body):
    for parse, message in (
        (parse_notice, Notice),
        (parse_host_screens, ScreenInfo),
        (parse_viewer_choice, ScreenInfo),
    ):
        try:
            parse(message(body))
        except ProtocolError:
            pass
