"""The staff and policies tabs as an admin uses them, against a real relay: one person's
credentials on screen at a time, labelled inputs, a word when no row is selected; policy fields
that show no value not in force, durations in minutes, the watermark's words, and the bandwidth
alert threshold."""

from __future__ import annotations

import re

from conftest import press, settled
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QSpinBox

from apps.admin.audit_text import policy_text
from apps.admin.texts import tr
from tests.integration.relay_harness import TENANT, USER


def status(window) -> str:
    return window.statusBar().currentMessage()


def shown_credentials(staff) -> tuple[bool, list[str]]:
    """Whether a QR code is shown, and the one-time codes shown."""
    pixmap = staff.qr_label.pixmap()
    codes = [staff.codes.item(i).text() for i in range(staff.codes.count())]
    return not pixmap.isNull(), codes


# --- the staff tab ---


def test_only_one_persons_qr_or_codes_are_shown_and_named(console, live, qloop):
    run, staff = qloop.run_until_complete, console.staff
    run(staff.add("sato"))  # sato's QR
    assert shown_credentials(staff) == (True, [])
    codes = run(staff.issue_codes(USER, 3))
    assert shown_credentials(staff) == (False, codes)  # sato's QR is gone
    assert USER in staff.issued_to.text() and "sato" not in staff.issued_to.text()
    run(staff.issue_totp("sato"))
    assert shown_credentials(staff) == (True, [])  # USER's codes are gone
    assert "sato" in staff.issued_to.text()


def test_deleting_a_staff_member_takes_their_qr_away(console, live, qloop, tmp_path):
    run, staff = qloop.run_until_complete, console.staff
    run(staff.add("sato"))
    run(staff.delete("sato"))
    assert shown_credentials(staff) == (False, [])
    assert staff.uri_label.text() == "" and staff.issued_to.text() == ""
    assert run(staff.print_sheet(tmp_path / "sheet.pdf")) is None


def test_deleting_someone_else_leaves_the_qr_shown(console, live, qloop):
    run, staff = qloop.run_until_complete, console.staff
    run(staff.add("sato"))
    run(staff.add("suzuki"))
    run(staff.delete("sato"))
    assert shown_credentials(staff) == (True, [])
    assert "suzuki" in staff.issued_to.text()


def test_the_staff_tabs_inputs_are_labelled(console):
    staff = console.staff
    named = {label.buddy() for label in staff.findChildren(QLabel) if label.text()}
    inputs = staff.findChildren(QLineEdit) + staff.findChildren(QSpinBox)
    inputs = [w for w in inputs if w.parent() is not None and not isinstance(w.parent(), QSpinBox)]
    assert inputs and all(w in named for w in inputs)
    assert staff.new_login.placeholderText()


def test_an_action_with_no_row_selected_says_to_select_one(console, qloop):
    run, staff = qloop.run_until_complete, console.staff
    run(settled(console))
    staff.table.setCurrentCell(-1, -1)
    for key in ("issue_totp", "issue_codes", "disable", "delete"):
        console.report("")
        press(staff, key)
        run(settled(console))
        assert status(console) == tr("error", message=tr("select_staff_first")), key


def test_adding_a_staff_member_clears_the_box(console, live, qloop):
    run, staff = qloop.run_until_complete, console.staff
    staff.new_login.setText("sato")
    press(staff, "add")
    run(settled(console))
    assert status(console) == tr("staff_added", login="sato")
    assert staff.new_login.text() == ""
    assert live.relay.directory.get_user(TENANT, "sato") is not None


def test_a_refused_add_keeps_what_was_typed(console, qloop):
    run, staff = qloop.run_until_complete, console.staff
    staff.new_login.setText(USER)  # exists already
    press(staff, "add")
    run(settled(console))
    assert staff.new_login.text() == USER


# --- the policies tab ---


def policy_on_relay(console, qloop) -> dict:
    return qloop.run_until_complete(console.policies.call("GET", "policy")).get("policy") or {}


def test_blank_time_fields_show_no_time_that_could_be_in_force(console):
    policies = console.policies
    for field in (policies.start, policies.end, policies.shutdown):
        assert field.text() == ""
        assert not re.search(r"\d", field.placeholderText()), field.placeholderText()


def test_hours_with_a_blank_end_are_refused_not_saved_as_midnight(console, qloop):
    run, policies = qloop.run_until_complete, console.policies
    run(settled(console))
    policies.start.setText("08:00")
    press(policies, "save")
    run(settled(console))
    assert status(console) == tr("error", message=tr("hours_need_both"))
    assert "allowed_hours" not in policy_on_relay(console, qloop)

    policies.end.setText("17:00")
    press(policies, "save")
    run(settled(console))
    assert status(console) == tr("policy_saved")
    hours = policy_on_relay(console, qloop)["allowed_hours"]
    assert (hours["start"], hours["end"]) == ("08:00", "17:00")


def test_durations_are_in_minutes_with_the_servers_bounds_in_the_label(console, qloop):
    run, policies = qloop.run_until_complete, console.policies
    run(settled(console))
    policies.idle.setValue(5)
    policies.max_session.setValue(90)
    press(policies, "save")
    run(settled(console))
    assert status(console) == tr("policy_saved")
    saved = policy_on_relay(console, qloop)
    assert (saved["idle_timeout_s"], saved["max_session_s"]) == (300, 5400)
    policies.show_policy(saved)
    assert (policies.idle.value(), policies.max_session.value()) == (5, 90)
    assert policies.idle.suffix() == tr("minutes_suffix")
    labels = [w.text() for w in policies.findChildren(QLabel)]
    assert tr("idle_timeout", low=5, high=1440) in labels


def test_the_watermark_words_are_set_in_the_form(console, qloop):
    run, policies = qloop.run_until_complete, console.policies
    run(settled(console))
    policies.watermark.setChecked(True)
    policies.watermark_text.setText("〇〇市 持出禁止")
    press(policies, "save")
    run(settled(console))
    assert status(console) == tr("policy_saved")
    assert policy_on_relay(console, qloop)["watermark_text"] == "〇〇市 持出禁止"
    policies.watermark_text.clear()
    run(policies.load())
    assert policies.watermark_text.text() == "〇〇市 持出禁止"


def test_the_burned_watermark_checkbox_is_saved_loaded_and_cleared(console, qloop):
    run, policies = qloop.run_until_complete, console.policies
    run(settled(console))
    box = policies.watermark_burned
    assert box.text() == tr("watermark_burned") and box.toolTip() == tr("watermark_burned_hint")
    assert not box.isChecked()
    assert "watermark_burned" not in policies.form_policy()  # unset: older office PCs refuse it
    box.setChecked(True)
    press(policies, "save")
    run(settled(console))
    assert status(console) == tr("policy_saved")
    saved = policy_on_relay(console, qloop)
    assert saved["watermark_burned"] is True
    assert tr("policy_watermark_burned") in policy_text(saved)
    box.setChecked(False)
    run(policies.load())
    assert box.isChecked()  # what the relay holds
    box.setChecked(False)
    press(policies, "save")
    run(settled(console))
    assert "watermark_burned" not in policy_on_relay(console, qloop)


# --- the bandwidth alert threshold ---


def test_an_operator_sets_and_removes_the_bandwidth_alert_threshold(operator, live, qloop):
    run, monitoring = qloop.run_until_complete, operator.monitoring
    run(monitoring.refresh())
    monitoring.threshold.setValue(500)
    press(monitoring, "set_threshold")
    run(settled(operator))
    assert status(operator) == tr("threshold_set")
    assert live.relay.directory.get_bandwidth_limits(TENANT)[0] == 500_000
    assert "500 kbit/s" in monitoring.summary.text()

    monitoring.threshold.setValue(0)
    press(monitoring, "set_threshold")
    run(settled(operator))
    assert status(operator) == tr("threshold_cleared")
    assert tr("no_threshold") in monitoring.summary.text()


def test_a_tenant_admin_is_told_the_threshold_is_the_operators(console, qloop):
    run, monitoring = qloop.run_until_complete, console.monitoring
    monitoring.threshold.setValue(500)
    (button,) = [b for b in monitoring.findChildren(QPushButton) if b.text() == tr("set_threshold")]
    assert not button.isEnabled()
    assert button.toolTip() == tr("not_for_role", role=tr("role_tenant_admin"))
    # Asked all the same (a script, an older console), the relay says why not.
    console.spawn(monitoring.set_threshold(500))
    run(settled(console))
    assert status(console) == tr("error", message=tr("api_error_operator_only"))


def test_the_home_pc_check_and_login_message_are_set_in_the_form(console, qloop):
    run, policies = qloop.run_until_complete, console.policies
    run(settled(console))
    policies.home_checks["firewall"].setChecked(True)
    policies.home_checks["os_updates"].setChecked(True)
    policies.update_age.setValue(14)
    policies.min_viewer_version.setText("0.1.0")
    policies.deny_unchecked.setChecked(True)
    policies.login_message.setPlainText("本日20時から保守のため停止します。\nヘルプデスク 内線1234")
    press(policies, "save")
    run(settled(console))
    assert status(console) == tr("policy_saved")
    saved = policy_on_relay(console, qloop)
    assert saved["home_checks"] == ["os_updates", "firewall"]
    assert saved["update_max_age_days"] == 14 and saved["min_viewer_version"] == "0.1.0"
    assert saved["deny_unchecked"] is True
    assert saved["login_message"] == "本日20時から保守のため停止します。\nヘルプデスク 内線1234"
    policies.show_policy({})
    assert not policies.home_checks["firewall"].isChecked() and policies.update_age.value() == 0
    run(policies.load())
    assert policies.home_checks["firewall"].isChecked() and policies.update_age.value() == 14
    assert policies.login_message.isEnabled()  # the tenant's scope
    labels = [w.text() for w in policies.findChildren(QLabel)]
    assert tr("update_max_age", low=1, high=365, default=30) in labels
    assert tr("login_message", max=200) in labels


def test_the_lockout_is_set_in_the_form_within_its_bounds(console, qloop):
    run, policies = qloop.run_until_complete, console.policies
    run(settled(console))
    failures, minutes = policies.lockout_failures, policies.lockout_minutes
    # Unset shows "-" (the relay's default, in the label); every other value is in bounds.
    assert (failures.text(), minutes.text()) == ("-", "-")
    assert (failures.minimum() + 1, failures.maximum()) == (3, 10)
    assert (minutes.minimum() + 1, minutes.maximum()) == (10, 1440)
    labels = [w.text() for w in policies.findChildren(QLabel)]
    assert tr("lockout_failures", low=3, high=10, default=5) in labels
    assert tr("lockout_minutes", low=10, high=1440, default=15) in labels
    failures.setValue(10)  # with the default 15 minutes: faster guessing than the defaults
    press(policies, "save")
    run(settled(console))
    assert status(console) == tr("error", message=tr("lockout_too_short", count=10, minutes=30))
    assert "lockout_failures" not in policy_on_relay(console, qloop)
    failures.setValue(3)
    minutes.setValue(60)
    press(policies, "save")
    run(settled(console))
    assert status(console) == tr("policy_saved")
    saved = policy_on_relay(console, qloop)
    assert (saved["lockout_failures"], saved["lockout_minutes"]) == (3, 60)
    policies.show_policy({})
    assert (failures.text(), minutes.text()) == ("-", "-")
    run(policies.load())
    assert (failures.value(), minutes.value()) == (3, 60) and failures.isEnabled()
    minutes.setValue(minutes.minimum())  # back to the default length, the count kept
    press(policies, "save")
    run(settled(console))
    saved = policy_on_relay(console, qloop)
    assert saved["lockout_failures"] == 3 and "lockout_minutes" not in saved
