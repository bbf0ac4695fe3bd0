"""The audit log in words, for the console's audit tab (Qt-free).

Records come from the admin API as ``{id, ts, event, tenant, user, host_id, source, detail}``
with event codes (``admin.staff_add``, ``session_end``...) and details as JSON; this module
turns each into what an admin reads: the event's name in their language, the details as a
sentence (times in local time, durations, sizes and rates with units, reasons in words), and
the session tag the watermark shows (``#`` and the first eight hex digits of the SHA-256 of the
session's ID), so that a photo of a screen leads to its session.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from apps.admin.texts import role_name, tr
from apps.common.i18n import CLOSE_CODES, REFUSAL_CODES
from apps.common.session_tag import session_tag
from core.hostpolicy.devices import format_device_code
from core.policy import WEEKDAYS

# Events whose records name a session in their details, and where.
SESSION_EVENTS = ("session_start", "session_end", "admin.session_end_request")


def event_name(event: str) -> str:
    """An event code in words; a code this console does not know, as it is."""
    key = "event_" + event.replace(".", "_")
    return tr(key) if tr.knows(key) else event


def local_time(ts: float, seconds: bool = True) -> str:
    """A timestamp in the computer's local time."""
    return dt.datetime.fromtimestamp(ts).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def duration(seconds: float) -> str:
    """A duration in hours, minutes and seconds, largest units first, zeros left out."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return tr("duration_hm", hours=hours, minutes=minutes)
    if minutes:
        return tr("duration_ms", minutes=minutes, seconds=secs)
    return tr("duration_s", seconds=secs)


def data_size(count: float) -> str:
    """A byte count in kB, MB or GB (decimal units, as network figures are)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{int(count)} B"


def rate(bps: float | None) -> str:
    return tr("no_limit") if not bps else f"{round(bps / 1000):,} kbit/s"


def reason_text(event: str, reason: str) -> str:
    """Why a login was refused or a session ended, in words."""
    key = f"end_reason_{reason}"
    if tr.knows(key):
        return tr(key)
    if event == "session_end" and reason in CLOSE_CODES:
        return tr.close_reason(reason)
    if reason in REFUSAL_CODES:
        return tr.refusal(reason)
    return reason


def days_text(days: list[str]) -> str:
    """Weekdays in words, a run of three or more as a range (月〜金, Mon–Fri)."""
    names = dict(zip(WEEKDAYS, tr("days").split(","), strict=True))
    picked = [d for d in WEEKDAYS if d in days]
    first = WEEKDAYS.index(picked[0]) if picked else 0
    if len(picked) >= 3 and picked == list(WEEKDAYS[first : first + len(picked)]):
        return tr("day_range", first=names[picked[0]], last=names[picked[-1]])
    return tr("detail_sep").join(names.get(d, d) for d in days)


def policy_text(policy: Mapping[str, Any]) -> str:
    """A policy's settings in one line: hours, limits, watermark, view only, the lockout."""
    parts: list[str] = []
    hours = policy.get("allowed_hours")
    if isinstance(hours, Mapping):
        days = days_text([str(d) for d in hours.get("days", [])])
        parts.append(tr("policy_hours", days=days, start=hours.get("start"), end=hours.get("end")))
    if policy.get("shutdown_at"):
        parts.append(tr("policy_shutdown", at=policy["shutdown_at"]))
    if policy.get("idle_timeout_s"):
        parts.append(tr("policy_idle", minutes=int(policy["idle_timeout_s"]) // 60))
    if policy.get("max_session_s"):
        parts.append(tr("policy_max", minutes=int(policy["max_session_s"]) // 60))
    if policy.get("watermark_burned"):
        parts.append(tr("policy_watermark_burned"))
    elif policy.get("watermark"):
        parts.append(tr("policy_watermark"))
    if policy.get("view_only"):
        parts.append(tr("policy_view_only"))
    if policy.get("allowed_macs"):
        parts.append(tr("policy_macs", count=len(policy["allowed_macs"])))
    if policy.get("home_checks"):
        parts.append(tr("policy_home_checks", checks=checks_text(policy["home_checks"])))
    if policy.get("update_max_age_days"):
        parts.append(tr("policy_update_age", days=policy["update_max_age_days"]))
    if policy.get("min_viewer_version"):
        parts.append(tr("policy_min_viewer", version=policy["min_viewer_version"]))
    if policy.get("deny_unchecked"):
        parts.append(tr("policy_deny_unchecked"))
    if policy.get("login_message"):
        parts.append(tr("policy_login_message"))
    if policy.get("lockout_failures"):
        parts.append(tr("policy_lockout_failures", count=policy["lockout_failures"]))
    if policy.get("lockout_minutes"):
        parts.append(tr("policy_lockout_minutes", minutes=policy["lockout_minutes"]))
    return tr("detail_sep").join(parts) if parts else tr("policy_none")


def checks_text(checks: list[str]) -> str:
    """Home-PC check names in short words (a name this console does not know, as it is)."""
    words = [tr(f"check_short_{c}") if tr.knows(f"check_short_{c}") else str(c) for c in checks]
    return tr("detail_sep").join(words)


def home_check_text(report: Mapping[str, Any]) -> str:
    """What a home PC said of itself: its OS and viewer, the update's age, each status."""
    parts = [
        str(report.get("os_name") or "?"),
        tr("detail_version", version=report.get("viewer_version")),
    ]
    if report.get("updates_age_days") is not None:
        check = tr("check_short_os_updates")
        parts.append(tr("detail_updates_age", check=check, days=report["updates_age_days"]))
    for name in ("antivirus", "firewall", "disk_encryption", "os_supported"):
        status = f"check_status_{report.get(name)}"
        if tr.knows(status):
            parts.append(f"{tr(f'check_short_{name}')} {tr(status)}")
    return tr("detail_sep").join(parts)


def _when(value: Any) -> str:
    return local_time(float(value), seconds=False)


# How each detail the relay records reads: its words, given the value (and the event).
_DETAILS: dict[str, Callable[[Any, str], str]] = {
    "admin": lambda v, _: tr("detail_admin", admin=v),
    "target": lambda v, _: tr("detail_target", target=v),
    "role": lambda v, _: tr("detail_role", role=role_name(str(v))),
    "sign_ins_ended": lambda v, _: tr("detail_sign_ins_ended", count=v),
    "reason": lambda v, e: tr("detail_reason", reason=reason_text(e, str(v))),
    "session": lambda v, _: tr("detail_session", tag=session_tag(str(v))),
    "duration_s": lambda v, _: tr("detail_duration", duration=duration(float(v))),
    "bytes_to_viewer": lambda v, _: tr("detail_to_viewer", size=data_size(float(v))),
    "bytes_to_host": lambda v, _: tr("detail_to_host", size=data_size(float(v))),
    "otp": lambda v, _: tr({"totp": "detail_otp_totp", "code": "detail_otp_code"}[v]),
    "device": lambda v, _: tr("detail_device", device=str(v)[:16]),
    "name": lambda v, _: tr("detail_name", name=v),
    "agent_version": lambda v, _: tr("detail_version", version=v),
    "mac": lambda v, _: tr("detail_mac", mac=v),
    "count": lambda v, _: tr("detail_count", count=v),
    "sessions_ended": lambda v, _: tr("detail_sessions_ended", count=v),
    "expires_at": lambda v, _: tr("detail_expires", time=_when(v)),
    "policy": lambda v, _: policy_text(v if isinstance(v, Mapping) else {}),
    "alert_bps": lambda v, _: tr("detail_alert", rate=rate(v)),
    "cap_bps": lambda v, _: tr("detail_cap", rate=rate(v)),
    "rate_bps": lambda v, _: tr("detail_rate", rate=rate(v)),
    "threshold_bps": lambda v, _: tr("detail_threshold", rate=rate(v)),
    "os_user": lambda v, _: tr("detail_os_user", user=v),
    "error": lambda v, _: tr("detail_error", error=v),
    "action": lambda v, _: tr("detail_action", action=v),
    "returned": lambda v, _: tr("detail_returned", count=v),
    "fields": lambda v, _: tr(
        "detail_fields", fields=", ".join(tr(f"detail_field_{f}") for f in list(v))
    ),
    "url": lambda v, _: tr("detail_url", url=v),
    "encrypted": lambda v, _: tr("detail_encrypted_yes" if v else "detail_encrypted_no"),
    "can_wake": lambda v, _: tr("detail_can_wake_yes" if v else "detail_can_wake_no"),
    "fingerprint": lambda v, _: tr("detail_fingerprint", fingerprint=str(v)[:16]),
    "replaced": lambda v, _: tr("detail_replaced_yes" if v else "detail_replaced_no"),
    "serial": lambda v, _: tr("detail_serial", serial=v),
    "devices": lambda v, _: (
        tr("detail_codes", codes=", ".join(format_device_code(str(c)) for c in list(v)))
        if v
        else tr("detail_codes_none")
    ),
    "central_macs": lambda v, _: tr("detail_central_macs_on" if v else "detail_central_macs_off"),
    "trust": lambda v, _: tr(f"detail_trust_{v}"),
    "checks": lambda v, _: tr("detail_checks", checks=checks_text(list(v))),
    "home_check": lambda v, _: tr("detail_home_check", summary=home_check_text(v)),
}
# Details that say nothing to an admin (the cap of a query they did not make).
_QUIET = frozenset({"limit"})


def detail_text(event: str, detail: Mapping[str, Any]) -> str:
    """A record's details as words, in the order of :data:`_DETAILS` (who, why, which
    session, then the figures); one this console does not know as ``name: value``."""
    parts = []
    known = [name for name in _DETAILS if name in detail]
    for name in [*known, *(n for n in detail if n not in _DETAILS)]:
        value = detail[name]
        if name in _QUIET or value is None or value == "":
            continue
        words = _DETAILS.get(name)
        try:
            parts.append(words(value, event) if words else f"{name}: {value}")
        except (TypeError, ValueError, KeyError):  # a value of an unexpected shape
            parts.append(f"{name}: {value}")
    return tr("detail_sep").join(parts)


def record_tag(record: Mapping[str, Any]) -> str:
    """The session tag of a record about a session (``#`` and 8 hex digits), else ""."""
    detail = record.get("detail") or {}
    session = detail.get("session") if isinstance(detail, Mapping) else None
    return f"#{session_tag(str(session))}" if session else ""


_TAG = re.compile(r"#?\s*([0-9a-fA-F]{8})")


def parse_tag(text: str) -> str | None:
    """The session tag in what the admin typed (``#1a2b3c4d``, ``1A2B 3C4D``), as ``#`` and
    lowercase hex; None if it holds none."""
    match = _TAG.fullmatch("".join(text.split()))
    return f"#{match[1].lower()}" if match else None
