"""What the viewer says to a person: the ``viewer`` catalog in one language, and the protocol's
progress stages and notices as calm, plain sentences. Protocol codes never reach the screen as
they are. Qt-free."""

from __future__ import annotations

from apps.common.i18n import Translator
from core.protocol.control import ProgressStage
from core.protocol.notices import IdleWarning, NoticeBody, SessionPolicy, ShutdownWarning


class Texts(Translator):
    """The viewer's catalog in one language (``ja`` or ``en``), shared reasons included."""

    def __init__(self, language: str) -> None:
        super().__init__("viewer", language)

    def progress(self, stage: ProgressStage) -> str:
        return self(f"progress_{stage}")

    def notice(self, body: NoticeBody) -> str:
        match body:
            case ShutdownWarning(at=at, minutes_left=minutes):
                return self("notice_shutdown", at=at, minutes=minutes)
            case IdleWarning(seconds_left=seconds):
                return self("notice_idle", seconds=seconds)
            case SessionPolicy(view_only=True):
                return self("notice_view_only")
        return ""
