# ruff: noqa: E501 - the catalog holds whole sentences, one per line
"""Everything the viewer says to a person, in Japanese and English, chosen by the OS locale.

Qt-free. One catalog, every entry in both languages (a unit test checks that), and functions
that turn protocol codes (refusal reasons, progress stages, close reasons, notices) into calm,
plain sentences. Protocol codes never reach the screen as they are.
"""

from __future__ import annotations

import time

from core.protocol.control import ProgressStage, RefusalReason
from core.protocol.notices import (
    CloseReason,
    IdleWarning,
    NoticeBody,
    SessionPolicy,
    ShutdownWarning,
)

LANGUAGES = ("ja", "en")

# key -> (Japanese, English)
CATALOG: dict[str, tuple[str, str]] = {
    # --- login dialog --------------------------------------------------------------------
    "app_title": ("テレワーク画面転送", "Telework screen viewer"),
    "login_title": ("職場のパソコンに接続", "Connect to your office PC"),
    "field_relay": ("接続先サーバー (ホスト:ポート)", "Relay server (host:port)"),
    "field_fingerprint": ("サーバーの指紋 (SHA-256)", "Relay fingerprint (SHA-256)"),
    "field_tenant": ("団体コード", "Organisation code"),
    "field_user": ("ユーザー名", "User name"),
    "field_host_id": ("職場のパソコンの ID", "Office PC ID"),
    "field_otp": ("ワンタイムパスワード", "One-time password"),
    "connect": ("接続", "Connect"),
    "cancel": ("キャンセル", "Cancel"),
    "connection_settings": ("接続設定…", "Connection settings…"),
    "missing_field": ("「{field}」を入力してください。", "Please enter “{field}”."),
    "bad_relay": (
        "接続先サーバーは「ホスト名:ポート番号」の形で入力してください。",
        "Enter the relay server as host:port.",
    ),
    "bad_fingerprint": (
        "サーバーの指紋は 64 桁の英数字です。管理者にご確認ください。",
        "The relay fingerprint is 64 hexadecimal digits. Please check with your administrator.",
    ),
    "bad_host_id": (
        "職場のパソコンの ID は 20 文字の英数字です (ハイフンは省略可)。",
        "The office PC ID is 20 letters and digits (dashes optional).",
    ),
    # --- progress ------------------------------------------------------------------------
    "progress_connecting_to_relay": ("サーバーに接続しています…", "Connecting to the relay…"),
    "progress_waiting_for_host": (
        "職場のパソコンの応答を待っています…",
        "Waiting for your office PC…",
    ),
    "progress_securing_channel": (
        "暗号化された接続を確立しています…",
        "Securing the connection…",
    ),
    "progress_reconnecting": ("再接続しています…", "Reconnecting…"),
    "progress_receiving_screen": ("画面を受信しています…", "Receiving the screen…"),
    # --- refusals ------------------------------------------------------------------------
    "retry_without_otp": (
        "新しいワンタイムパスワードは不要です。もう一度「接続」を押してください。",
        "No new one-time password is needed: press Connect again.",
    ),
    "refused_wrong_otp": (
        "ワンタイムパスワードが正しくないか、有効期限が切れています。新しいパスワードを入力してください。",
        "The one-time password is wrong or has expired. Please enter a new one.",
    ),
    "refused_locked_out": (
        "失敗が続いたため、しばらくログインできません。{at} 以降にもう一度お試しください。",
        "Too many failed attempts. Please try again after {at}.",
    ),
    "refused_locked_out_soon": (
        "失敗が続いたため、しばらくログインできません。少し待ってからお試しください。",
        "Too many failed attempts. Please wait a while and try again.",
    ),
    "refused_not_granted": (
        "この職場のパソコンを使う権限がありません。管理者にお問い合わせください。",
        "You are not allowed to use this office PC. Please contact your administrator.",
    ),
    "refused_host_offline": (
        "職場のパソコンに接続できません。電源が入っていて、テレワークのソフトが動いているか確認してください。",
        "Your office PC is not reachable. Check that it is switched on and the telework agent is running.",
    ),
    "refused_host_busy": (
        "職場のパソコンは別の接続で使用中です。",
        "Your office PC is already in use by another connection.",
    ),
    "refused_refused_by_host": (
        "職場のパソコンが接続を断りました。",
        "Your office PC declined the connection.",
    ),
    "refused_mac_not_registered": (
        "この自宅のパソコンは、職場のパソコンに登録されていません。管理者にお問い合わせください。",
        "This home PC is not registered on your office PC. Please contact your administrator.",
    ),
    "refused_outside_hours": (
        "現在は利用できる時間帯ではありません。",
        "Telework is not available at this time of day.",
    ),
    "refused_host_paused": (
        "職場のパソコンでテレワークが一時停止されています。",
        "Telework is paused on your office PC.",
    ),
    "refused_host_timeout": (
        "職場のパソコンから応答がありません。しばらくしてからお試しください。",
        "Your office PC did not answer. Please try again in a moment.",
    ),
    "refused_bad_resume_ticket": (
        "再接続の有効期限が切れました。新しいワンタイムパスワードを入力してください。",
        "The reconnection window has passed. Please enter a new one-time password.",
    ),
    "refused_too_many_connections": (
        "サーバーが混み合っています。しばらくしてからお試しください。",
        "The relay is busy. Please try again in a moment.",
    ),
    "refused_shutting_down": (
        "サーバーが保守のため停止中です。しばらくしてからお試しください。",
        "The relay is shutting down for maintenance. Please try again later.",
    ),
    "refused_other": (
        "接続できませんでした。しばらくしてからお試しください。問題が続く場合は管理者にお問い合わせください。",
        "Could not connect. Please try again later; if it keeps happening, contact your administrator.",
    ),
    "relay_unreachable": (
        "サーバーに接続できません。インターネット接続を確認してください。",
        "Cannot reach the relay. Please check your internet connection.",
    ),
    "relay_untrusted": (
        "接続先サーバーの確認に失敗しました。安全のため接続を中止しました。管理者にお問い合わせください。",
        "The relay could not be verified, so the connection was stopped for safety. Please contact your administrator.",
    ),
    "host_untrusted": (
        "職場のパソコンの確認に失敗しました。安全のため接続を中止しました。管理者にお問い合わせください。",
        "Your office PC could not be verified, so the connection was stopped for safety. Please contact your administrator.",
    ),
    # --- session end ---------------------------------------------------------------------
    "closed_viewer_quit": ("接続を終了しました。", "You ended the session."),
    "closed_host_quit": (
        "職場のパソコンで接続が終了されました。",
        "The session was ended on your office PC.",
    ),
    "closed_idle_timeout": (
        "操作がなかったため、接続を終了しました。",
        "The session ended because it was idle for too long.",
    ),
    "closed_max_session": (
        "一回の接続で使える時間を過ぎたため、接続を終了しました。",
        "The session reached its maximum length and was ended.",
    ),
    "closed_shutdown": (
        "職場のパソコンがシャットダウンするため、接続を終了しました。",
        "The session ended because your office PC is shutting down.",
    ),
    "closed_outside_hours": (
        "利用できる時間帯が終わったため、接続を終了しました。",
        "The session ended because telework hours are over.",
    ),
    "closed_taken_over": (
        "別の場所から接続されたため、この接続は終了しました。",
        "The session was taken over by another connection.",
    ),
    "closed_paused": (
        "職場のパソコンでテレワークが一時停止されたため、接続を終了しました。",
        "The session ended because telework was paused on your office PC.",
    ),
    "closed_error": (
        "問題が起きたため接続を終了しました。もう一度接続してください。",
        "The session ended because of a problem. Please connect again.",
    ),
    "closed_ended_by_admin": (
        "管理者が接続を終了しました。",
        "An administrator ended the session.",
    ),
    "closed_unknown": ("接続が終了しました。", "The session has ended."),
    # --- notices -------------------------------------------------------------------------
    "notice_shutdown": (
        "職場のパソコンは {at} にシャットダウンします (あと {minutes} 分)。作業を保存してください。",
        "Your office PC shuts down at {at} ({minutes} min left). Please save your work.",
    ),
    "notice_idle": (
        "操作がないため、あと {seconds} 秒で接続を終了します。",
        "No activity: the session ends in {seconds} s.",
    ),
    "notice_view_only": (
        "閲覧のみのモードです (キーボードとマウスは送られません)。",
        "View-only mode: keyboard and mouse are not sent.",
    ),
    # --- reconnect -----------------------------------------------------------------------
    "reconnect_in": (
        "接続が切れました。{seconds} 秒後に自動で再接続します…",
        "Connection lost. Reconnecting in {seconds} s…",
    ),
    "reconnecting": ("再接続しています…", "Reconnecting…"),
    "reconnect_expired": (
        "接続が切れたまま時間がたちました。新しいワンタイムパスワードを入力してください。",
        "The connection was lost for too long. Please enter a new one-time password.",
    ),
    # --- session window ------------------------------------------------------------------
    "menu_session": ("接続", "Session"),
    "menu_view": ("表示", "View"),
    "action_ctrl_alt_del": ("Ctrl+Alt+Del を送る", "Send Ctrl+Alt+Del"),
    "action_view_only": ("閲覧のみ", "View only"),
    "action_fit": ("ウィンドウに合わせる", "Scale to fit"),
    "action_one_to_one": ("実寸 (1:1)", "Actual size (1:1)"),
    "action_full_screen": ("全画面表示", "Full screen"),
    "action_disconnect": ("切断", "Disconnect"),
    "menu_monitor": ("モニター", "Monitor"),
    "monitor_item": ("モニター {n} ({w}×{h})", "Monitor {n} ({w}×{h})"),
    "status_delay": ("遅延 {ms} ms", "Delay {ms} ms"),
    "status_rate": ("{kbps} kbit/s", "{kbps} kbit/s"),
    "status_connected": ("{host} に接続中", "Connected to {host}"),
    "session_title": ("{host} - テレワーク", "{host} - Telework"),
    "quit_confirm": ("接続を終了しますか？", "End the session?"),
}


def pick_language(locale_name: str) -> str:
    """'ja' for a Japanese OS locale (``ja_JP``, ``ja-JP``, ``Japanese_Japan``), else 'en'."""
    name = (locale_name or "").strip().lower()
    return "ja" if name.startswith(("ja", "japanese")) else "en"


class Texts:
    """The catalog in one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"
        self._column = LANGUAGES.index(self.language)

    def __call__(self, key: str, **values: object) -> str:
        return CATALOG[key][self._column].format(**values)

    def progress(self, stage: ProgressStage) -> str:
        return self(f"progress_{stage}")

    def refusal(self, reason: str, retry_after: int = 0) -> str:
        """A refusal code in plain words; a lockout says when to try again (local HH:MM)."""
        if reason == RefusalReason.LOCKED_OUT:
            if retry_after > 0:
                return self(
                    "refused_locked_out", at=time.strftime("%H:%M", time.localtime(retry_after))
                )
            return self("refused_locked_out_soon")
        key = f"refused_{reason}"
        return self(key) if key in CATALOG else self("refused_other")

    def close_reason(self, reason: str) -> str:
        known = {r.value for r in CloseReason}
        return self(f"closed_{reason}") if reason in known else self("closed_unknown")

    def notice(self, body: NoticeBody) -> str:
        match body:
            case ShutdownWarning(at=at, minutes_left=minutes):
                return self("notice_shutdown", at=at, minutes=minutes)
            case IdleWarning(seconds_left=seconds):
                return self("notice_idle", seconds=seconds)
            case SessionPolicy(view_only=True):
                return self("notice_view_only")
        return ""
