"""Every string the host agent shows, in Japanese and English.

The language follows the OS locale (``LC_ALL``/``LC_MESSAGES``/``LANG``, or Windows' UI locale);
:func:`set_language` overrides it (the tray app passes Qt's system locale). A missing key shows
as the key itself, and the unit tests check both languages have every key.
"""

from __future__ import annotations

import locale
import os

LANGUAGES = ("ja", "en")

STRINGS: dict[str, tuple[str, str]] = {
    # (Japanese, English)
    "app_name": ("テレワーク ホスト", "Telework Host"),
    "app_description": (
        "職場PCのテレワーク ホスト エージェント",
        "Telework host agent for the office PC",
    ),
    "host_id": ("ホストID", "Host ID"),
    "relay": ("中継サーバ", "Relay"),
    "state": ("状態", "State"),
    "state_not_enrolled": ("未登録", "Not enrolled"),
    "state_offline": ("オフライン（接続を再試行中）", "Offline (reconnecting)"),
    "state_waiting": ("接続待ち", "Waiting for connections"),
    "state_in_session": ("接続中", "In session"),
    "state_error": ("エラー", "Error"),
    "state_stopped": ("停止", "Stopped"),
    "state_paused": ("一時停止中", "Paused"),
    "tooltip": ("{app} — {state}", "{app} — {state}"),
    "tooltip_session": (
        "{app} — {user} さんが接続中（{device}）",
        "{app} — {user} connected ({device})",
    ),
    "mac_added": ("登録しました: {mac}", "Registered: {mac}"),
    "mac_removed": ("削除しました: {mac}", "Removed: {mac}"),
    "mac_not_found": ("登録されていません: {mac}", "Not registered: {mac}"),
    "need_enrolment": (
        "このPCは未登録です。--relay、--relay-fingerprint と --enroll TOKEN を指定してください。",
        "This PC is not enrolled: give --relay, --relay-fingerprint and --enroll TOKEN.",
    ),
    "enrolled_host_id": (
        "登録しました。このホストIDを管理者に伝えてください:",
        "Enrolled. Give this host ID to your administrator:",
    ),
    "refused": ("拒否されました: {reason}", "Refused: {reason}"),
    # refusal reasons (core.protocol.control.RefusalReason)
    "reason_wrong_otp": ("ワンタイムパスワードが違います", "Wrong one-time password"),
    "reason_locked_out": ("ロックされています", "Locked out"),
    "reason_not_granted": ("このPCの利用は許可されていません", "Not allowed to use this PC"),
    "reason_host_offline": ("職場PCがオフラインです", "The office PC is offline"),
    "reason_host_busy": ("職場PCは別の接続で使用中です", "The office PC is in another session"),
    "reason_refused_by_host": ("職場PCが接続を拒否しました", "The office PC refused"),
    "reason_mac_not_registered": (
        "この自宅PCは登録されていません",
        "This home PC is not registered",
    ),
    "reason_outside_hours": ("利用可能時間外です", "Outside the allowed hours"),
    "reason_host_paused": ("リモート接続は一時停止中です", "Remote access is paused"),
    "reason_host_timeout": ("職場PCが応答しません", "The office PC did not answer"),
    "reason_bad_enrollment_token": ("登録トークンが無効です", "Invalid enrolment token"),
    "reason_bad_host_credential": (
        "このPCの登録が無効です。再登録してください",
        "This PC's enrolment is no longer valid; enrol again",
    ),
    "reason_bad_resume_ticket": ("再接続チケットが無効です", "Invalid resume ticket"),
    "reason_too_many_connections": ("接続が多すぎます", "Too many connections"),
    "reason_protocol_error": ("通信エラー", "Protocol error"),
    "reason_server_error": ("サーバエラー", "Server error"),
    "reason_shutting_down": ("中継サーバが停止中です", "The relay is shutting down"),
    "reason_pin_mismatch": (
        "中継サーバの証明書が一致しません",
        "The relay's certificate does not match the fingerprint",
    ),
    "reason_relay_lost": ("中継サーバとの接続が切れました", "Connection to the relay lost"),
    # close reasons (core.protocol.notices.CloseReason)
    "close_viewer_quit": ("利用者が切断しました", "The user disconnected"),
    "close_host_quit": ("職場PC側で終了しました", "Ended on the office PC"),
    "close_idle_timeout": ("無操作のため切断しました", "Disconnected after inactivity"),
    "close_max_session": ("最大接続時間に達しました", "Maximum session time reached"),
    "close_shutdown": ("予定シャットダウンのため切断しました", "Scheduled shutdown"),
    "close_outside_hours": ("利用可能時間を過ぎました", "Allowed hours ended"),
    "close_taken_over": ("別の接続に切り替わりました", "Taken over by another login"),
    "close_paused": ("リモート接続を一時停止しました", "Remote access paused"),
    "close_ended_by_admin": ("管理者が接続を終了しました", "Ended by an administrator"),
    "close_error": ("エラーで切断しました", "Ended by an error"),
    # tray
    "menu_status": ("状態: {state}", "Status: {state}"),
    "menu_macs": ("許可する自宅PC…", "Allowed home PCs…"),
    "menu_pause": ("リモート接続を一時停止", "Pause remote access"),
    "menu_about": ("このソフトについて", "About"),
    "menu_quit": ("終了", "Quit"),
    "quit_confirm_title": ("終了の確認", "Quit?"),
    "quit_confirm_text": (
        "{user} さんが接続中です。終了すると切断されます。終了しますか？",
        "{user} is connected. Quitting ends the session. Quit anyway?",
    ),
    "about_text": (
        "テレワーク ホスト {version}\nホストID: {host_id}\n画面のみを転送します。"
        "クリップボード・ファイル・印刷は転送しません。",
        "Telework Host {version}\nHost ID: {host_id}\nOnly the screen is transferred: "
        "no clipboard, files or printing.",
    ),
    "notify_started_title": ("リモート接続が始まりました", "Remote session started"),
    "notify_started": ("{user} さんが {device} から接続しました", "{user} connected from {device}"),
    "notify_ended_title": ("リモート接続が終わりました", "Remote session ended"),
    "notify_ended": ("{user} さん（{device}）: {reason}", "{user} ({device}): {reason}"),
    "notify_shutdown_title": ("シャットダウン予定", "Scheduled shutdown"),
    "notify_shutdown": (
        "{at} にこのPCをシャットダウンします（あと {minutes} 分）",
        "This PC shuts down at {at} ({minutes} min left)",
    ),
    # MAC list editor
    "macs_title": ("許可する自宅PC", "Allowed home PCs"),
    "macs_hint": (
        "接続を許可する自宅PCのMACアドレス（例 AA:BB:CC:DD:EE:FF）",
        "MAC addresses of home PCs allowed to connect (e.g. AA:BB:CC:DD:EE:FF)",
    ),
    "mac_label": ("名前（任意）", "Name (optional)"),
    "add": ("追加", "Add"),
    "remove": ("削除", "Remove"),
    "close": ("閉じる", "Close"),
    "invalid_mac": ("MACアドレスの形式が正しくありません", "Not a valid MAC address"),
    # enrolment wizard
    "wizard_title": ("職場PCの登録", "Enrol this office PC"),
    "wizard_intro": (
        "管理者から受け取った中継サーバの情報と登録トークンを入力してください。",
        "Enter the relay details and the enrolment token from your administrator.",
    ),
    "relay_address": ("中継サーバ（ホスト名:ポート）", "Relay (host:port)"),
    "relay_fingerprint": (
        "証明書フィンガープリント（SHA-256）",
        "Certificate fingerprint (SHA-256)",
    ),
    "fingerprint_check": (
        "管理者の控えと一致することを確認してください:\n{fingerprint}",
        "Check that this matches your administrator's records:\n{fingerprint}",
    ),
    "enrolment_token": ("登録トークン", "Enrolment token"),
    "enroll": ("登録", "Enrol"),
    "enrolling": ("登録しています…", "Enrolling…"),
    "enrolled_title": ("登録が完了しました", "Enrolment complete"),
    "enrolled_text": (
        "このホストIDを管理者に伝えてください。",
        "Give this host ID to your administrator.",
    ),
    "enrol_failed": ("登録できませんでした: {reason}", "Enrolment failed: {reason}"),
    "invalid_address": ("アドレスは ホスト名:ポート の形式です", "The address must be host:port"),
    "invalid_fingerprint": (
        "フィンガープリントは16進数64桁です",
        "A fingerprint is 64 hexadecimal digits",
    ),
    "missing_token": ("登録トークンを入力してください", "Enter the enrolment token"),
}

_language: str | None = None


def system_language() -> str:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    code = locale.getlocale()[0] or ""
    return "ja" if code.lower().startswith(("ja", "japanese")) else "en"


def set_language(language: str | None) -> None:
    """``ja``, ``en``, or None to follow the OS again; other languages fall back to English."""
    global _language
    _language = None if language is None else ("ja" if language.startswith("ja") else "en")


def language() -> str:
    return _language or system_language()


def tr(key: str, **values: object) -> str:
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[0] if language() == "ja" else pair[1]
    return text.format(**values) if values else text
