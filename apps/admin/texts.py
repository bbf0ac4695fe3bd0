"""Everything the admin console says, in Japanese and English, chosen by the OS locale.

Qt-free: :func:`set_language` is called once at start-up with the OS locale's name.
"""

from __future__ import annotations

LANGUAGES = ("ja", "en")

# key -> (Japanese, English)
CATALOG: dict[str, tuple[str, str]] = {
    "app_title": ("テレワーク管理コンソール", "Telework admin console"),
    "login_title": ("管理者サインイン", "Administrator sign-in"),
    "field_url": ("管理 API (https://ホスト:ポート)", "Admin API (https://host:port)"),
    "field_fingerprint": ("サーバーの指紋 (SHA-256)", "Relay fingerprint (SHA-256)"),
    "field_login": ("管理者 ID", "Admin login"),
    "field_password": ("パスワード", "Password"),
    "field_otp": ("ワンタイムパスワード", "One-time password"),
    "sign_in": ("サインイン", "Sign in"),
    "sign_out": ("サインアウト", "Sign out"),
    "tenant": ("団体", "Tenant"),
    "refresh": ("更新", "Refresh"),
    "tab_staff": ("職員", "Staff"),
    "tab_hosts": ("職場PC", "Office PCs"),
    "tab_grants": ("利用許可", "Grants"),
    "tab_home": ("自宅PC", "Home PCs"),
    "tab_policies": ("ポリシー", "Policies"),
    "tab_sessions": ("接続中", "Live sessions"),
    "tab_monitoring": ("監視", "Monitoring"),
    "tab_usage": ("利用統計", "Usage"),
    "tab_audit": ("監査ログ", "Audit log"),
    "col_login": ("職員 ID", "Login"),
    "col_state": ("状態", "State"),
    "col_last_use": ("最終利用", "Last use"),
    "col_host_id": ("PC の ID", "PC ID"),
    "col_name": ("名前", "Name"),
    "col_online": ("オンライン", "Online"),
    "col_version": ("バージョン", "Version"),
    "col_last_seen": ("最終接続", "Last seen"),
    "col_last_session": ("最終利用", "Last session"),
    "col_mac": ("MAC アドレス", "MAC address"),
    "col_owner": ("登録先", "Registered for"),
    "col_label": ("メモ", "Label"),
    "col_since": ("開始", "Since"),
    "col_current": ("現在 kbit/s", "Now kbit/s"),
    "col_average": ("平均 kbit/s", "Average kbit/s"),
    "col_time": ("日時", "Time"),
    "col_event": ("イベント", "Event"),
    "col_detail": ("詳細", "Detail"),
    "col_day": ("日付", "Day"),
    "col_pcs": ("利用端末", "Office PCs"),
    "col_staff": ("職員数", "Staff"),
    "col_sessions": ("接続数", "Sessions"),
    "col_peak": ("最大同時接続", "Peak concurrent"),
    "col_hours": ("利用時間", "Hours"),
    "enabled": ("有効", "Enabled"),
    "disabled": ("停止中", "Disabled"),
    "yes": ("はい", "Yes"),
    "no": ("いいえ", "No"),
    "add": ("追加", "Add"),
    "delete": ("削除", "Delete"),
    "disable": ("停止", "Disable"),
    "enable": ("再開", "Enable"),
    "issue_totp": ("認証アプリを登録 (QR)", "Issue authenticator (QR)"),
    "issue_codes": ("使い捨てコードを発行", "Issue single-use codes"),
    "reset": ("認証情報をリセット", "Reset credentials"),
    "print_sheet": ("印刷用シート (PDF)", "Printable sheet (PDF)"),
    "totp_hint": (
        "職員の認証アプリでこの QR コードを読み取ってください。",
        "Have the staff member scan this QR code with their authenticator app.",
    ),
    "codes_hint": (
        "使い捨てコード (1 回限り、以前の未使用分は無効)",
        "Single-use codes (each once; earlier unused ones revoked)",
    ),
    "new_token": ("登録トークンを発行", "New enrolment token"),
    "copy": ("コピー", "Copy"),
    "rename": ("名前を変更", "Rename"),
    "retire": ("廃止", "Retire"),
    "grant": ("許可", "Grant"),
    "revoke": ("取り消し", "Revoke"),
    "for_staff": ("職員", "Staff member"),
    "for_host": ("職場PC", "Office PC"),
    "scope_tenant": ("団体全体", "Whole tenant"),
    "allowed_days": ("利用できる曜日", "Allowed days"),
    "allowed_from": ("利用開始時刻", "Allowed from"),
    "allowed_until": ("利用終了時刻", "Allowed until"),
    "shutdown_at": ("定時シャットダウン", "Scheduled shutdown"),
    "idle_timeout": ("無操作切断 (秒)", "Idle timeout (s)"),
    "max_session": ("最長接続時間 (秒)", "Maximum session (s)"),
    "watermark": ("透かしを表示", "Show watermark"),
    "view_only": ("閲覧のみ", "View only"),
    "save": ("保存", "Save"),
    "clear": ("消去", "Clear"),
    "end_session": ("切断", "End session"),
    "bandwidth_now": (
        "現在の帯域 {now} kbit/s / しきい値 {limit}",
        "Bandwidth now {now} kbit/s / threshold {limit}",
    ),
    "no_threshold": ("未設定", "not set"),
    "alerting": ("しきい値を超えています", "Above the threshold"),
    "alert_raised": (
        "{time} 超過 {rate} kbit/s (しきい値 {limit})",
        "{time} above: {rate} kbit/s (threshold {limit})",
    ),
    "alert_cleared": ("{time} 回復 {rate} kbit/s", "{time} back under: {rate} kbit/s"),
    "export_csv": ("CSV に書き出し", "Export CSV"),
    "since": ("開始日", "From"),
    "until": ("終了日", "To"),
    "filter": ("検索", "Search"),
    "saved_to": ("{path} に保存しました", "Saved to {path}"),
    "error": ("エラー: {message}", "Error: {message}"),
    "done": ("完了しました", "Done"),
    "cannot_reach": ("管理 API に接続できません", "Cannot reach the admin API"),
    "not_tls13": (
        "中継サーバーと TLS 1.3 で接続できません (TLS 1.3 が必要です)",
        "No TLS 1.3 connection with the relay (TLS 1.3 is required)",
    ),
    "pin_refused": (
        "中継サーバーの証明書が登録された指紋と一致しません",
        "The relay's certificate does not match the pinned fingerprint",
    ),
    "cannot_reach_because": (
        "管理 API に接続できません ({reason})",
        "Cannot reach the admin API ({reason})",
    ),
    "bad_url": (
        "管理 API の URL が正しくありません (https://ホスト:ポート の形で入力): {url}",
        "Not a usable admin API URL (type https://host:port): {url}",
    ),
    "bad_fingerprint": (
        "サーバーの指紋が正しくありません (SHA-256 の 16 進数 64 桁)",
        "Not a relay fingerprint (SHA-256: 64 hexadecimal digits)",
    ),
    "timed_out": (
        "管理 API が {seconds} 秒以内に応答しませんでした",
        "The admin API did not answer within {seconds} s",
    ),
    "unexpected_error": (
        "予期しないエラー ({reason})",
        "Unexpected error ({reason})",
    ),
    "days": ("月,火,水,木,金,土,日", "Mon,Tue,Wed,Thu,Fri,Sat,Sun"),
}

_language = "en"


def set_language(locale_name: str) -> str:
    """Japanese for a ``ja*`` locale, English otherwise; returns the language chosen."""
    global _language
    _language = "ja" if locale_name.lower().startswith("ja") else "en"
    return _language


def tr(key: str, **values: object) -> str:
    text = CATALOG[key][LANGUAGES.index(_language)]
    return text.format(**values) if values else text
