"""The console's main window: a tab per task over the admin API, for the chosen tenant.

Each tab has async methods that do one thing (``issue_totp``, ``new_token``, ``end``...) and
report through the window's signals; buttons only read their inputs and call them. Errors
from the API show in the status bar in the API's own words; nothing blocks the event loop.

Everything a tab shows belongs to one tenant: switching tenant clears it all at once (secrets
included), and answers that arrive for the tenant no longer selected are dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from apps.admin.api import AdminClient, ApiFailure, tenant_path
from apps.admin.charts import BarChart, LineChart
from apps.admin.qr import print_codes_sheet, print_totp_sheet, qr_image
from apps.admin.texts import tr
from core.policy import WEEKDAYS
from storage.atomic import DEFAULT_FILE_MODE, write_atomically

# How often the live tabs (sessions, monitoring) refresh themselves.
LIVE_REFRESH_MS = 2000

log = logging.getLogger(__name__)


class TenantChanged(Exception):
    """An answer (or refusal) came for a tenant that is no longer selected: not shown."""


def describe_failure(exc: Exception) -> str:
    """What to tell the user about a failed action: the API's words, or, for anything else
    (a bug, a disk error writing an export), the exception, logged with its traceback."""
    if isinstance(exc, ApiFailure):
        return exc.message or tr("cannot_reach")
    log.error("admin console action failed", exc_info=exc)
    return tr("unexpected_error", reason=f"{type(exc).__name__}: {exc}")


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


class Table(QTableWidget):
    def __init__(self, headers: list[str]) -> None:
        super().__init__(0, len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.keys: list[Any] = []

    def fill(self, rows: list[list[Any]], keys: list[Any]) -> None:
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
        self.keys = keys

    def selected_key(self) -> Any:
        row = self.currentRow()
        return self.keys[row] if 0 <= row < len(self.keys) else None


class Tab(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.layout_ = QVBoxLayout(self)

    @property
    def api(self) -> AdminClient:
        return self.window_.client

    async def call(
        self, method: str, *parts: object, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        """The API's answer at ``parts`` (each one path segment) of the selected tenant;
        :class:`TenantChanged` instead if another tenant was chosen meanwhile."""
        tenant = self.window_.tenant
        path = tenant_path(tenant, *parts)
        try:
            answer = await self.api.call(method, path, body, query)
        except ApiFailure:
            self._still_selected(tenant)  # a refusal for the old tenant is as stale as an answer
            raise
        self._still_selected(tenant)
        return answer

    def _still_selected(self, tenant: str) -> None:
        if self.window_.tenant != tenant:
            raise TenantChanged(tenant)

    def button(self, key: str, action: Callable[[], Awaitable[Any]]) -> QPushButton:
        button = QPushButton(tr(key))
        button.clicked.connect(lambda: self.window_.spawn(action()))
        return button

    def row(self, *widgets: QWidget) -> QHBoxLayout:
        line = QHBoxLayout()
        for widget in widgets:
            line.addWidget(widget)
        self.layout_.addLayout(line)
        return line

    async def refresh(self) -> None:
        raise NotImplementedError

    def forget(self) -> None:
        """Forget all that was shown for the tenant (rows, secrets), not the user's filters."""
        raise NotImplementedError


class StaffTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table([tr("col_login"), tr("col_state"), tr("col_last_use")])
        self.layout_.addWidget(self.table)
        self.new_login = QLineEdit()
        self.row(self.new_login, self.button("add", lambda: self.add(self.new_login.text())))
        self.code_count = QSpinBox()
        self.code_count.setRange(1, 10)
        self.code_count.setValue(5)
        self.row(
            self.button("disable", lambda: self.set_disabled(self.table.selected_key(), True)),
            self.button("enable", lambda: self.set_disabled(self.table.selected_key(), False)),
            self.button("delete", lambda: self.delete(self.table.selected_key())),
            self.button("reset", lambda: self.reset(self.table.selected_key())),
        )
        self.row(
            self.button("issue_totp", lambda: self.issue_totp(self.table.selected_key())),
            self.code_count,
            self.button(
                "issue_codes",
                lambda: self.issue_codes(self.table.selected_key(), self.code_count.value()),
            ),
        )
        self.qr_label = QLabel()
        self.uri_label = QLabel()
        self.uri_label.setWordWrap(True)
        self.codes = QListWidget()
        # Through spawn like every action, so that a failure to write the PDF is reported.
        self.print_button = self.button("print_sheet", self._ask_print)
        self.row(self.qr_label, self.codes)
        self.layout_.addWidget(self.uri_label)
        self.layout_.addWidget(self.print_button)
        self.forget()

    def forget(self) -> None:
        self.table.fill([], [])
        self.qr: QImage | None = None
        self.qr_label.clear()
        self.uri_label.clear()
        self.codes.clear()
        self.last_totp: dict[str, Any] | None = None
        self.last_codes: dict[str, Any] | None = None
        self.last_issued = ""  # "totp" or "codes": what the printable sheet shows
        self.issued_for = ""  # the tenant of what was issued, named on the sheet

    async def refresh(self) -> None:
        staff = (await self.call("GET", "staff"))["staff"]
        self.table.fill(
            [
                [
                    u["login"],
                    tr("disabled") if u["disabled"] else tr("enabled"),
                    _when(u["last_login_at"]),
                ]
                for u in staff
            ],
            [u["login"] for u in staff],
        )

    async def add(self, login: str) -> None:
        answer = await self.call("POST", "staff", body={"login": login})
        self._show_totp(answer)
        await self.refresh()

    async def set_disabled(self, login: str | None, disabled: bool) -> None:
        if login:
            await self.call("PATCH", "staff", login, body={"disabled": disabled})
            await self.refresh()

    async def delete(self, login: str | None) -> None:
        if login:
            await self.call("DELETE", "staff", login)
            await self.refresh()

    async def reset(self, login: str | None) -> None:
        if login:
            await self.call("POST", "staff", login, "reset")

    async def issue_totp(self, login: str | None) -> dict[str, Any] | None:
        if not login:
            return None
        answer: dict[str, Any] = await self.call("POST", "staff", login, "totp")
        self._show_totp(answer)
        return answer

    def _show_totp(self, answer: dict[str, Any]) -> None:
        self.last_totp, self.last_issued, self.issued_for = answer, "totp", self.window_.tenant
        self.qr = qr_image(answer["otpauth_uri"])
        self.qr_label.setPixmap(QPixmap.fromImage(self.qr))
        self.uri_label.setText(f"{answer['login']}: {answer['totp_secret']}")

    async def issue_codes(self, login: str | None, count: int) -> list[str]:
        if not login:
            return []
        answer = await self.call("POST", "staff", login, "codes", body={"count": count})
        self.last_codes, self.last_issued, self.issued_for = answer, "codes", self.window_.tenant
        self.codes.clear()
        self.codes.addItems(answer["codes"])
        return list(answer["codes"])

    def print_sheet(self, path: Path) -> Path | None:
        """The printable sheet of what was issued last: the QR code, or the codes."""
        tenant = self.issued_for
        if self.last_issued == "codes" and self.last_codes is not None:
            account = f"{self.last_codes['login']}@{tenant}"
            return print_codes_sheet(path, account, self.last_codes["codes"])
        if self.last_totp is not None:
            account = f"{self.last_totp['login']}@{tenant}"
            return print_totp_sheet(
                path, account, self.last_totp["otpauth_uri"], self.last_totp["totp_secret"]
            )
        return None

    async def _ask_print(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("print_sheet"), "", "PDF (*.pdf)")
        if name:
            self.print_sheet(Path(name))


class HostsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table(
            [
                tr("col_host_id"),
                tr("col_name"),
                tr("col_online"),
                tr("col_version"),
                tr("col_last_seen"),
                tr("col_last_session"),
            ]
        )
        self.layout_.addWidget(self.table)
        self.token = QLineEdit()
        self.token.setReadOnly(True)
        copy = QPushButton(tr("copy"))
        copy.clicked.connect(self.copy_token)
        self.row(self.button("new_token", self.new_token), self.token, copy)
        self.name = QLineEdit()
        self.row(
            self.name,
            self.button("rename", lambda: self.rename(self.table.selected_key(), self.name.text())),
            self.button("retire", lambda: self.retire(self.table.selected_key())),
        )
        self.forget()

    def forget(self) -> None:
        self.hosts: list[dict[str, Any]] = []
        self.table.fill([], [])
        self.token.clear()

    async def refresh(self) -> None:
        self.hosts = (await self.call("GET", "hosts"))["hosts"]
        self.table.fill(
            [
                [
                    h["display_id"],
                    h["name"],
                    tr("yes") if h["online"] else tr("no"),
                    h["agent_version"],
                    _when(h["last_seen_at"]),
                    _when(h["last_session_at"]),
                ]
                for h in self.hosts
            ],
            [h["host_id"] for h in self.hosts],
        )

    async def new_token(self) -> str:
        answer = await self.call("POST", "enrollment-tokens", body={})
        self.token.setText(answer["token"])
        return str(answer["token"])

    def copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self.token.text())

    async def rename(self, host_id: str | None, name: str) -> None:
        if host_id:
            await self.call("PATCH", "hosts", host_id, body={"name": name})
            await self.refresh()

    async def retire(self, host_id: str | None) -> None:
        if host_id:
            await self.call("DELETE", "hosts", host_id)
            await self.refresh()


class GrantsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table([tr("col_login"), tr("col_host_id")])
        self.layout_.addWidget(self.table)
        self.login = QLineEdit()
        self.host = QLineEdit()
        self.row(
            self.login,
            self.host,
            self.button("grant", lambda: self.grant(self.login.text(), self.host.text())),
            self.button("revoke", self._revoke_selected),
        )

    def forget(self) -> None:
        self.table.fill([], [])

    async def refresh(self) -> None:
        grants = (await self.call("GET", "grants"))["grants"]
        self.table.fill(
            [[g["login"], g["host_id"]] for g in grants],
            [(g["login"], g["host_id"]) for g in grants],
        )

    async def grant(self, login: str, host_id: str) -> None:
        await self.call("POST", "grants", body={"login": login, "host_id": host_id})
        await self.refresh()

    async def revoke(self, login: str, host_id: str) -> None:
        await self.call("DELETE", "grants", login, host_id)
        await self.refresh()

    async def _revoke_selected(self) -> None:
        key = self.table.selected_key()
        if key:
            await self.revoke(*key)


class HomePcsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table([tr("col_mac"), tr("col_owner"), tr("col_label")])
        self.layout_.addWidget(self.table)
        self.mac = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItem(tr("for_staff"), "login")
        self.kind.addItem(tr("for_host"), "host_id")
        self.owner = QLineEdit()
        self.label = QLineEdit()
        self.row(
            self.mac,
            self.kind,
            self.owner,
            self.label,
            self.button(
                "add",
                lambda: self.register(
                    self.mac.text(), self.kind.currentData(), self.owner.text(), self.label.text()
                ),
            ),
            self.button("delete", lambda: self.remove(self.table.selected_key())),
        )

    def forget(self) -> None:
        self.table.fill([], [])

    async def refresh(self) -> None:
        macs = (await self.call("GET", "home-pcs"))["home_pcs"]
        self.table.fill(
            [[m["mac"], m["login"] or m["host_id"], m["label"]] for m in macs],
            [m["id"] for m in macs],
        )

    async def register(self, mac: str, kind: str, owner: str, label: str = "") -> dict[str, Any]:
        answer: dict[str, Any] = await self.call(
            "POST", "home-pcs", body={"mac": mac, kind: owner, "label": label}
        )
        await self.refresh()
        return answer

    async def remove(self, registration_id: int | None) -> None:
        if registration_id is not None:
            await self.call("DELETE", "home-pcs", registration_id)
            await self.refresh()


class PoliciesTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.scope = QComboBox()
        self.scope.currentIndexChanged.connect(lambda _: self.window_.spawn(self.load()))
        self.layout_.addWidget(self.scope)
        form = QFormLayout()
        days = QHBoxLayout()
        self.days = []
        for name in tr("days").split(","):
            box = QCheckBox(name)
            box.setChecked(True)
            self.days.append(box)
            days.addWidget(box)
        form.addRow(tr("allowed_days"), days)
        self.start, self.end, self.shutdown = QLineEdit(), QLineEdit(), QLineEdit()
        for field, key, hint in (
            (self.start, "allowed_from", "08:00"),
            (self.end, "allowed_until", "20:00"),
            (self.shutdown, "shutdown_at", "22:00"),
        ):
            field.setPlaceholderText(hint)
            form.addRow(tr(key), field)
        self.idle, self.max_session = QSpinBox(), QSpinBox()
        for spin in (self.idle, self.max_session):
            spin.setRange(0, 24 * 3600)
            spin.setSpecialValueText("-")
        form.addRow(tr("idle_timeout"), self.idle)
        form.addRow(tr("max_session"), self.max_session)
        self.watermark, self.view_only = QCheckBox(tr("watermark")), QCheckBox(tr("view_only"))
        form.addRow(self.watermark)
        form.addRow(self.view_only)
        self.layout_.addLayout(form)
        self.row(
            self.button("save", lambda: self.save(self.scope.currentData(), self.form_policy())),
            self.button("clear", lambda: self.clear(self.scope.currentData())),
        )

    @staticmethod
    def _policy_parts(host_id: str | None) -> tuple[str, ...]:
        return ("hosts", host_id, "policy") if host_id else ("policy",)

    def forget(self) -> None:
        self._set_scopes([])
        self.show_policy({})

    def _set_scopes(self, hosts: list[dict[str, Any]]) -> None:
        self.scope.blockSignals(True)  # the caller loads the policy once the list is complete
        self.scope.clear()
        self.scope.addItem(tr("scope_tenant"), "")
        for host in hosts:
            self.scope.addItem(f"{host['name']} ({host['display_id']})", host["host_id"])
        self.scope.blockSignals(False)

    async def refresh(self) -> None:
        self._set_scopes((await self.call("GET", "hosts"))["hosts"])
        await self.load()

    async def load(self) -> None:
        answer = await self.call("GET", *self._policy_parts(self.scope.currentData()))
        self.show_policy(answer.get("policy") or {})

    def show_policy(self, policy: dict[str, Any]) -> None:
        hours = policy.get("allowed_hours") or {}
        for name, box in zip(WEEKDAYS, self.days, strict=True):
            box.setChecked(name in hours.get("days", WEEKDAYS))
        self.start.setText(hours.get("start", ""))
        self.end.setText(hours.get("end", ""))
        self.shutdown.setText(policy.get("shutdown_at", ""))
        self.idle.setValue(policy.get("idle_timeout_s") or 0)
        self.max_session.setValue(policy.get("max_session_s") or 0)
        self.watermark.setChecked(bool(policy.get("watermark")))
        self.view_only.setChecked(bool(policy.get("view_only")))

    def form_policy(self) -> dict[str, Any]:
        policy: dict[str, Any] = {
            "watermark": self.watermark.isChecked(),
            "view_only": self.view_only.isChecked(),
        }
        days = [n for n, box in zip(WEEKDAYS, self.days, strict=True) if box.isChecked()]
        if self.start.text() or self.end.text() or len(days) < len(WEEKDAYS):
            policy["allowed_hours"] = {
                "days": days,
                "start": self.start.text() or "00:00",
                "end": self.end.text() or "24:00",
            }
        if self.shutdown.text():
            policy["shutdown_at"] = self.shutdown.text()
        if self.idle.value():
            policy["idle_timeout_s"] = self.idle.value()
        if self.max_session.value():
            policy["max_session_s"] = self.max_session.value()
        return policy

    async def save(self, host_id: str | None, policy: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await self.call("PUT", *self._policy_parts(host_id), body=policy)
        return answer

    async def clear(self, host_id: str | None) -> None:
        await self.call("DELETE", *self._policy_parts(host_id))
        await self.load()


class SessionsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table(
            [
                tr("col_login"),
                tr("col_host_id"),
                tr("col_since"),
                tr("col_current"),
                tr("col_average"),
            ]
        )
        self.layout_.addWidget(self.table)
        self.row(self.button("end_session", lambda: self.end(self.table.selected_key())))
        self.forget()

    def forget(self) -> None:
        self.sessions: list[dict[str, Any]] = []
        self.table.fill([], [])

    async def refresh(self) -> None:
        self.sessions = (await self.call("GET", "sessions"))["sessions"]
        self.table.fill(
            [
                [
                    s["user"],
                    s["host_id"],
                    _when(s["started_at"]),
                    s["current_kbps"],
                    s["average_kbps"],
                ]
                for s in self.sessions
            ],
            [s["session_id"] for s in self.sessions],
        )

    async def end(self, session_id: str | None) -> None:
        if session_id:
            await self.call("DELETE", "sessions", session_id)
            await self.refresh()


class MonitoringTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.summary = QLabel()
        self.chart = LineChart()
        self.alerts = QListWidget()
        self.layout_.addWidget(self.summary)
        self.layout_.addWidget(self.chart)
        self.layout_.addWidget(self.alerts)
        self.alerting = False

    def forget(self) -> None:
        self.summary.clear()
        self.chart.set_data([], None)
        self.alerts.clear()
        self.alerting = False

    async def refresh(self) -> None:
        bandwidth = await self.call("GET", "bandwidth")
        limit = bandwidth["alert_bps"]
        self.summary.setText(
            tr(
                "bandwidth_now",
                now=bandwidth["current_bps"] // 1000,
                limit=f"{limit // 1000} kbit/s" if limit else tr("no_threshold"),
            )
            + (f" — {tr('alerting')}" if bandwidth["alerting"] else "")
        )
        self.chart.set_data([p["bps"] / 1000 for p in bandwidth["history"]], limit and limit / 1000)
        answer = await self.call("GET", "alerts")
        self.alerting = answer["alerting"]
        self.alerts.clear()
        for alert in reversed(answer["alerts"]):
            key = "alert_raised" if alert["kind"] == "raised" else "alert_cleared"
            self.alerts.addItem(
                tr(
                    key,
                    time=_when(alert["ts"]),
                    rate=(alert["rate_bps"] or 0) // 1000,
                    limit=(alert["threshold_bps"] or 0) // 1000,
                )
            )


class UsageTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.since, self.until = QDateEdit(), QDateEdit()
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.until.setDate(QDate.currentDate())
        self.since.setDate(QDate.currentDate().addDays(-13))
        self.row(
            QLabel(tr("since")),
            self.since,
            QLabel(tr("until")),
            self.until,
            self.button("refresh", self.refresh),
            self.button("export_csv", self._ask_export),
        )
        self.chart = BarChart()
        self.layout_.addWidget(self.chart)
        self.table = Table(
            [
                tr("col_day"),
                tr("col_pcs"),
                tr("col_staff"),
                tr("col_sessions"),
                tr("col_peak"),
                tr("col_hours"),
            ]
        )
        self.layout_.addWidget(self.table)

    def _range(self) -> dict[str, str]:
        return {
            "since": self.since.date().toString("yyyy-MM-dd"),
            "until": self.until.date().toString("yyyy-MM-dd"),
        }

    def forget(self) -> None:
        self.table.fill([], [])
        self.chart.set_data([])

    async def refresh(self) -> None:
        days = (await self.call("GET", "usage", query=self._range()))["days"]
        self.table.fill([list(d.values()) for d in days], [d["day"] for d in days])
        self.chart.set_data([(d["day"], float(d["office_pcs"])) for d in days])

    async def export(self, path: Path) -> Path:
        text = await self.call("GET", "usage", query={**self._range(), "format": "csv"})
        # With a BOM, so Excel reads Japanese.
        write_atomically(path, text.encode("utf-8-sig"), mode=DEFAULT_FILE_MODE)
        return path

    async def _ask_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("export_csv"), "usage.csv", "CSV (*.csv)")
        if name:
            await self.export(Path(name))


class AuditTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.user, self.host, self.event_code = QLineEdit(), QLineEdit(), QLineEdit()
        self.user.setPlaceholderText(tr("col_login"))
        self.host.setPlaceholderText(tr("col_host_id"))
        self.event_code.setPlaceholderText(tr("col_event"))
        self.since = QDateEdit()
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd")
        self.since.setDate(QDate.currentDate().addDays(-7))
        self.row(
            self.since,
            self.user,
            self.host,
            self.event_code,
            self.button("filter", self.refresh),
            self.button("export_csv", self._ask_export),
        )
        self.table = Table(
            [tr("col_time"), tr("col_event"), tr("col_login"), tr("col_host_id"), tr("col_detail")]
        )
        self.layout_.addWidget(self.table)

    def filters(self) -> dict[str, Any]:
        since = self.since.date()
        start = dt.datetime(since.year(), since.month(), since.day()).timestamp()
        return {
            "since": start,
            "user": self.user.text(),
            "host_id": self.host.text(),
            "event": self.event_code.text(),
        }

    def forget(self) -> None:
        self.table.fill([], [])

    async def refresh(self) -> None:
        records = (await self.call("GET", "audit", query=self.filters()))["records"]
        self.table.fill(
            [
                [
                    _when(r["ts"]),
                    r["event"],
                    r["user"],
                    r["host_id"],
                    json.dumps(r["detail"], ensure_ascii=False),
                ]
                for r in records
            ],
            [r["id"] for r in records],
        )

    async def export(self, path: Path) -> Path:
        text = await self.call("GET", "audit", query={**self.filters(), "format": "csv"})
        write_atomically(path, text.encode("utf-8-sig"), mode=DEFAULT_FILE_MODE)
        return path

    async def _ask_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("export_csv"), "audit.csv", "CSV (*.csv)")
        if name:
            await self.export(Path(name))


class MainWindow(QMainWindow):
    failed = Signal(str)
    succeeded = Signal()

    def __init__(self, client: AdminClient, tenants: list[str]) -> None:
        super().__init__()
        self.client = client
        self.setWindowTitle(f"{tr('app_title')} — {client.session.get('login', '')}")
        self.tenant_box = QComboBox()
        self.tenant_box.addItems(tenants)
        self.tenant_box.currentTextChanged.connect(self._tenant_changed)
        self.tabs = QTabWidget()
        self.staff = StaffTab(self)
        self.hosts = HostsTab(self)
        self.grants = GrantsTab(self)
        self.home_pcs = HomePcsTab(self)
        self.policies = PoliciesTab(self)
        self.sessions = SessionsTab(self)
        self.monitoring = MonitoringTab(self)
        self.usage = UsageTab(self)
        self.audit = AuditTab(self)
        pages: tuple[tuple[Tab, str], ...] = (
            (self.staff, "tab_staff"),
            (self.hosts, "tab_hosts"),
            (self.grants, "tab_grants"),
            (self.home_pcs, "tab_home"),
            (self.policies, "tab_policies"),
            (self.sessions, "tab_sessions"),
            (self.monitoring, "tab_monitoring"),
            (self.usage, "tab_usage"),
            (self.audit, "tab_audit"),
        )
        for tab, key in pages:
            self.tabs.addTab(tab, tr(key))
        self.pages = [tab for tab, _ in pages]
        self.tabs.currentChanged.connect(lambda _: self.spawn(self.current_tab().refresh()))
        central = QWidget()
        layout = QVBoxLayout(central)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("tenant")))
        top.addWidget(self.tenant_box, 1)
        layout.addLayout(top)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)
        self.failed.connect(
            lambda message: self.statusBar().showMessage(tr("error", message=message))
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(LIVE_REFRESH_MS)
        self.live_timer.timeout.connect(self._refresh_live)

    @property
    def tenant(self) -> str:
        return self.tenant_box.currentText()

    def current_tab(self) -> Tab:
        widget = self.tabs.currentWidget()
        assert isinstance(widget, Tab)
        return widget

    def _tenant_changed(self) -> None:
        # At once, not when the new tenant's answers come: until then the old tenant's
        # secrets would stay on screen and its selected rows would be acted on in the new one.
        for tab in self.pages:
            tab.forget()
        self.statusBar().clearMessage()
        self.spawn(self.refresh_all())

    def spawn(self, coro: Awaitable[Any]) -> None:
        """Run a tab action on the event loop; any failure shows in the status bar (nothing
        escapes to the loop, where it would be lost), except a switch of tenant meanwhile."""

        async def guarded() -> None:
            try:
                await coro
            except TenantChanged:
                pass
            except Exception as exc:
                self.failed.emit(describe_failure(exc))
            else:
                self.succeeded.emit()

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh_all(self) -> None:
        if self.tenant:
            await self.current_tab().refresh()

    def _refresh_live(self) -> None:
        if self.current_tab() in (self.sessions, self.monitoring):
            self.spawn(self.current_tab().refresh())

    def start_live_refresh(self) -> None:
        self.live_timer.start()
