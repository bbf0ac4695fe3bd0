"""The viewer's scripted stdin (``--otp-stdin``, ``--report-state``): lines split wherever the
pipe cuts them, the OTP first, ``quit`` and the end of input end the session."""

from __future__ import annotations

from apps.viewer.main import StdinCommands


class RecordingApp:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def submit_otp(self, otp: str) -> None:
        self.calls.append(("otp", otp))

    def quit(self) -> None:
        self.calls.append(("quit",))


def test_the_first_line_is_the_otp_even_when_it_arrives_in_pieces():
    app = RecordingApp()
    commands = StdinCommands(app, otp_first=True)
    commands.feed(b"12")
    assert app.calls == []
    commands.feed(b"3456\r\nqu")
    assert app.calls == [("otp", "123456")]
    commands.feed(b"it\n")
    assert app.calls == [("otp", "123456"), ("quit",)]


def test_without_otp_first_only_quit_and_the_end_of_input_act():
    app = RecordingApp()
    commands = StdinCommands(app, otp_first=False)
    commands.feed(b"123456\nhello\n")
    assert app.calls == []
    commands.feed(b"")
    assert app.calls == [("quit",)]
