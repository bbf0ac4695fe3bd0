"""The policies tab: the tenant's policy, or one office PC's, as a form.

Blank fields are no limit, and look blank: the hints say the form to type, never a time that
could be taken for one in force. Durations are in minutes, the labels saying the server's bounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
)

from apps.admin.failures import InputMissing
from apps.admin.tabs.base import Tab
from apps.admin.texts import tr
from core.auth.lockout import (
    MAX_TENANT_LOCK_MINUTES,
    MAX_TENANT_LOCKOUT_FAILURES,
    MAX_USER_GUESSES_PER_HOUR,
    MIN_TENANT_LOCK_MINUTES,
    MIN_TENANT_LOCKOUT_FAILURES,
    USER_MAX_FAILURES,
)
from core.homecheck.report import MAX_VERSION_CHARS, REQUIRABLE_CHECKS
from core.policy import (
    DEFAULT_LOCK_MINUTES,
    DEFAULT_UPDATE_AGE_DAYS,
    MAX_IDLE_TIMEOUT_S,
    MAX_LOGIN_MESSAGE_CHARS,
    MAX_SESSION_S,
    MAX_UPDATE_AGE_DAYS,
    MAX_WATERMARK_TEXT,
    MIN_IDLE_TIMEOUT_S,
    MIN_SESSION_S,
    MIN_UPDATE_AGE_DAYS,
    WEEKDAYS,
    shortest_lock_minutes,
)

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


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
        for field, key in (
            (self.start, "allowed_from"),
            (self.end, "allowed_until"),
            (self.shutdown, "shutdown_at"),
        ):
            field.setPlaceholderText(tr("time_hint"))
            form.addRow(tr(key), field)
        self.idle, self.max_session = QSpinBox(), QSpinBox()
        for spin, key, low, high in (
            (self.idle, "idle_timeout", MIN_IDLE_TIMEOUT_S, MAX_IDLE_TIMEOUT_S),
            (self.max_session, "max_session", MIN_SESSION_S, MAX_SESSION_S),
        ):
            spin.setRange(0, high // 60)  # 0 (shown as "-") is no limit
            spin.setSpecialValueText("-")
            spin.setSuffix(tr("minutes_suffix"))
            form.addRow(tr(key, low=low // 60, high=high // 60), spin)
        self.watermark, self.view_only = QCheckBox(tr("watermark")), QCheckBox(tr("view_only"))
        form.addRow(self.watermark)
        self.watermark_text = QLineEdit()
        self.watermark_text.setMaxLength(MAX_WATERMARK_TEXT)
        self.watermark_text.setPlaceholderText(tr("watermark_text_hint"))
        form.addRow(tr("watermark_text"), self.watermark_text)
        self.watermark_burned = QCheckBox(tr("watermark_burned"))
        self.watermark_burned.setToolTip(tr("watermark_burned_hint"))
        form.addRow(self.watermark_burned)
        form.addRow(self.view_only)
        self._add_home_pc_rows(form)
        self.layout_.addLayout(form)
        self.row(
            self.button("save", self.save_form, needs="put_tenant_policy"),
            self.button(
                "clear",
                lambda: self.clear(self.scope.currentData()),
                needs="delete_tenant_policy",
            ),
        )

    def _add_home_pc_rows(self, form: QFormLayout) -> None:
        """The home-PC check (what must pass, how old the OS updates may be, the lowest viewer
        version, unchecked home PCs) and the tenant's login message."""
        checks = QHBoxLayout()
        self.home_checks: dict[str, QCheckBox] = {}
        for check in REQUIRABLE_CHECKS:
            box = self.home_checks[check.value] = QCheckBox(tr(f"check_short_{check.value}"))
            box.setToolTip(tr(f"check_{check.value}"))
            checks.addWidget(box)
        form.addRow(tr("home_checks"), checks)
        self.update_age = QSpinBox()
        self.update_age.setRange(0, MAX_UPDATE_AGE_DAYS)  # 0 (shown as "-"): the default
        self.update_age.setSpecialValueText("-")
        label = tr(
            "update_max_age",
            low=MIN_UPDATE_AGE_DAYS,
            high=MAX_UPDATE_AGE_DAYS,
            default=DEFAULT_UPDATE_AGE_DAYS,
        )
        form.addRow(label, self.update_age)
        self.min_viewer_version = QLineEdit()
        self.min_viewer_version.setMaxLength(MAX_VERSION_CHARS)
        self.min_viewer_version.setPlaceholderText(tr("min_viewer_version_hint"))
        form.addRow(tr("min_viewer_version"), self.min_viewer_version)
        self.deny_unchecked = QCheckBox(tr("deny_unchecked"))
        form.addRow(self.deny_unchecked)
        self.login_message = QPlainTextEdit()
        self.login_message.setPlaceholderText(tr("login_message_hint"))
        self.login_message.setMaximumHeight(self.login_message.fontMetrics().lineSpacing() * 4)
        form.addRow(tr("login_message", max=MAX_LOGIN_MESSAGE_CHARS), self.login_message)
        self._add_lockout_rows(form)

    def _add_lockout_rows(self, form: QFormLayout) -> None:
        """The lockout of the staff's accounts (the tenant's alone): wrong one-time passwords
        that lock one, and for how long. Each box's lowest value, shown as "-", is the relay's
        default; every other value it offers is within the bounds."""
        self.lockout_failures, self.lockout_minutes = QSpinBox(), QSpinBox()
        for spin, key, low, high, default in (
            (
                self.lockout_failures,
                "lockout_failures",
                MIN_TENANT_LOCKOUT_FAILURES,
                MAX_TENANT_LOCKOUT_FAILURES,
                USER_MAX_FAILURES,
            ),
            (
                self.lockout_minutes,
                "lockout_minutes",
                MIN_TENANT_LOCK_MINUTES,
                MAX_TENANT_LOCK_MINUTES,
                DEFAULT_LOCK_MINUTES,
            ),
        ):
            spin.setRange(low - 1, high)
            spin.setSpecialValueText("-")
            form.addRow(tr(key, low=low, high=high, default=default), spin)
        self.lockout_minutes.setSuffix(tr("minutes_suffix"))

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
        host_id = self.scope.currentData()
        answer = await self.call("GET", *self._policy_parts(host_id))
        self.show_policy(answer.get("policy") or {})
        # The login message and the lockout are the tenant's: an office PC's policy has none.
        self.login_message.setEnabled(not host_id)
        self.login_message.setToolTip("" if not host_id else tr("login_message_tenant_only"))
        for spin in (self.lockout_failures, self.lockout_minutes):
            spin.setEnabled(not host_id)
            hint = tr("lockout_rate_hint", rate=MAX_USER_GUESSES_PER_HOUR)
            spin.setToolTip(hint if not host_id else tr("lockout_tenant_only"))

    def show_policy(self, policy: dict[str, Any]) -> None:
        hours = policy.get("allowed_hours") or {}
        for name, box in zip(WEEKDAYS, self.days, strict=True):
            box.setChecked(name in hours.get("days", WEEKDAYS))
        self.start.setText(hours.get("start", ""))
        self.end.setText(hours.get("end", ""))
        self.shutdown.setText(policy.get("shutdown_at", ""))
        self.idle.setValue((policy.get("idle_timeout_s") or 0) // 60)
        self.max_session.setValue((policy.get("max_session_s") or 0) // 60)
        self.watermark.setChecked(bool(policy.get("watermark")))
        self.watermark_text.setText(policy.get("watermark_text", ""))
        self.watermark_burned.setChecked(bool(policy.get("watermark_burned")))
        self.view_only.setChecked(bool(policy.get("view_only")))
        required = policy.get("home_checks") or []
        for name, box in self.home_checks.items():
            box.setChecked(name in required)
        self.update_age.setValue(policy.get("update_max_age_days") or 0)
        self.min_viewer_version.setText(policy.get("min_viewer_version", ""))
        self.deny_unchecked.setChecked(bool(policy.get("deny_unchecked")))
        self.login_message.setPlainText(policy.get("login_message", ""))
        for spin, key in (
            (self.lockout_failures, "lockout_failures"),
            (self.lockout_minutes, "lockout_minutes"),
        ):
            spin.setValue(policy.get(key) or spin.minimum())

    def form_policy(self) -> dict[str, Any]:
        policy: dict[str, Any] = {
            "watermark": self.watermark.isChecked(),
            "view_only": self.view_only.isChecked(),
        }
        days = [n for n, box in zip(WEEKDAYS, self.days, strict=True) if box.isChecked()]
        start, end = self.start.text().strip(), self.end.text().strip()
        if bool(start) != bool(end):  # a blank one would silently mean midnight
            raise InputMissing(tr("hours_need_both"))
        if start or len(days) < len(WEEKDAYS):
            policy["allowed_hours"] = {
                "days": days,
                "start": start or "00:00",
                "end": end or "24:00",
            }
        if words := self.watermark_text.text().strip():
            policy["watermark_text"] = words
        if self.watermark_burned.isChecked():  # only when set: older office PCs refuse the key
            policy["watermark_burned"] = True
        if self.shutdown.text():
            policy["shutdown_at"] = self.shutdown.text()
        if self.idle.value():
            policy["idle_timeout_s"] = self.idle.value() * 60
        if self.max_session.value():
            policy["max_session_s"] = self.max_session.value() * 60
        checks = [name for name, box in self.home_checks.items() if box.isChecked()]
        if checks:
            policy["home_checks"] = checks
        if self.update_age.value():
            policy["update_max_age_days"] = self.update_age.value()
        if version := self.min_viewer_version.text().strip():
            policy["min_viewer_version"] = version
        if self.deny_unchecked.isChecked():
            policy["deny_unchecked"] = True
        if self.login_message.isEnabled() and (words := self.login_message.toPlainText().strip()):
            policy["login_message"] = words
        self._form_lockout(policy)
        return policy

    def _form_lockout(self, policy: dict[str, Any]) -> None:
        """The lockout's keys the form sets (none for an office PC); a lock too short for its
        count (see core.policy.shortest_lock_minutes) is refused here, unsent."""
        if not self.lockout_failures.isEnabled():
            return
        failures, minutes = self.lockout_failures.value(), self.lockout_minutes.value()
        if failures >= MIN_TENANT_LOCKOUT_FAILURES:
            policy["lockout_failures"] = failures
        if minutes >= MIN_TENANT_LOCK_MINUTES:
            policy["lockout_minutes"] = minutes
        if failures >= MIN_TENANT_LOCKOUT_FAILURES or minutes >= MIN_TENANT_LOCK_MINUTES:
            count = policy.get("lockout_failures", USER_MAX_FAILURES)
            shortest = shortest_lock_minutes(count)
            if policy.get("lockout_minutes", DEFAULT_LOCK_MINUTES) < shortest:
                raise InputMissing(tr("lockout_too_short", count=count, minutes=shortest))

    async def save_form(self) -> None:
        """Save what the form says for the chosen scope (refused, unsent, if it is half filled)."""
        await self.save(self.scope.currentData(), self.form_policy())

    async def save(self, host_id: str | None, policy: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await self.call("PUT", *self._policy_parts(host_id), body=policy)
        self.window_.report(tr("policy_saved"))
        return answer

    async def clear(self, host_id: str | None) -> None:
        await self.call("DELETE", *self._policy_parts(host_id))
        self.window_.report(tr("policy_cleared"))
        await self.load()
