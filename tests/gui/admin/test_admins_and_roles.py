"""The console by role, against a real relay: an auditor reads every tab and has no write button
enabled; a helpdesk admin sees the staff list alone and issues one-time passwords there; the
role is shown. The Admins tab: a tenant admin adds an admin (password and authenticator shown
once, as a QR code too), gives a new authenticator, ends every sign-in of theirs at once (their
token is refused after) and deletes them."""

from __future__ import annotations

import asyncio

import aiohttp
import pyotp
from conftest import press, settled
from PySide6.QtWidgets import QLabel, QPushButton

from apps.admin.texts import tr
from tests.integration.relay_harness import USER

# Every button that changes something, by its label's key (tabs share some labels).
WRITE_BUTTONS = {
    "add",
    "change_names",
    "import_csv",
    "disable",
    "enable",
    "delete",
    "reset",
    "issue_totp",
    "issue_codes",
    "print_sheets_selected",
    "rename",
    "retire",
    "allow_wake",
    "stop_wake",
    "new_token",
    "grant",
    "revoke",
    "save",
    "clear",
    "end_session",
    "set_threshold",
    "syslog_save",
    "syslog_stop",
    "add_admin",
    "change_role",
    "reset_admin_password",
    "reset_admin_totp",
    "force_sign_out",
}
STAFF_OTP_BUTTONS = {"issue_totp", "issue_codes", "print_sheets_selected", "reset"}


def buttons(window, keys: set[str]) -> list[QPushButton]:
    """The window's buttons labelled with one of the message ``keys``, in every tab."""
    labels = {tr(key) for key in keys}
    return [b for b in window.findChildren(QPushButton) if b.text() in labels]


def visible_tabs(window) -> list[str]:
    return [
        window.tabs.tabText(i) for i in range(window.tabs.count()) if window.tabs.isTabVisible(i)
    ]


def role_shown(window) -> str:
    return window.role_label.text()


def test_an_auditor_reads_every_tab_and_has_no_write_button_enabled(auditor, qloop, live):
    writes = buttons(auditor, WRITE_BUTTONS)
    assert len(writes) >= 30
    enabled = [b.text() for b in writes if b.isEnabled()]
    assert enabled == []
    tooltip = tr("not_for_role", role=tr("role_auditor"))
    assert all(b.toolTip() == tooltip for b in writes)
    assert role_shown(auditor) == tr("signed_in_role", role=tr("role_auditor"))
    assert len(visible_tabs(auditor)) == auditor.tabs.count()  # reads everything
    # ... and the reads work: every tab fills without an error.
    for tab in auditor.pages:
        qloop.run_until_complete(tab.refresh())
    assert auditor.staff.table.keys == [USER]
    assert auditor.admins.table.keys == ["audrey"]
    assert auditor.admins.role.count() == 0  # no role to give
    qloop.run_until_complete(settled(auditor))
    assert not auditor._error_shown


def test_a_tenant_admin_has_the_write_buttons_the_auditor_has_not(console):
    enabled = {b.text() for b in buttons(console, WRITE_BUTTONS) if b.isEnabled()}
    assert enabled == {tr(key) for key in WRITE_BUTTONS - {"set_threshold"}}
    assert role_shown(console) == tr("signed_in_role", role=tr("role_tenant_admin"))
    roles = [console.admins.role.itemData(i) for i in range(console.admins.role.count())]
    assert sorted(roles) == ["auditor", "helpdesk", "tenant_admin"]  # none above her own


def test_helpdesk_sees_the_staff_list_and_issues_one_time_passwords_only(helpdesk, qloop):
    assert visible_tabs(helpdesk) == [tr("tab_staff")]
    enabled = {b.text() for b in buttons(helpdesk, WRITE_BUTTONS) if b.isEnabled()}
    assert enabled == {tr(key) for key in STAFF_OTP_BUTTONS}
    staff = helpdesk.staff
    qloop.run_until_complete(staff.refresh())
    codes = qloop.run_until_complete(staff.issue_codes(USER, 3))
    assert len(codes) == 3
    # The sheet prints without the office PCs, which the role may not read.
    (sheet,) = qloop.run_until_complete(staff.staff_sheets())
    assert sheet.codes == tuple(codes) and sheet.pcs == ()


async def signed_in_elsewhere(live, answer: dict) -> str:
    """A token of the admin just added, signed in from another client (a script)."""
    fingerprint = bytes.fromhex(live.relay.server.fingerprint)
    connector = aiohttp.TCPConnector(ssl=aiohttp.Fingerprint(fingerprint))
    async with aiohttp.ClientSession(connector=connector) as http:
        body = {
            "login": answer["login"],
            "password": answer["password"],
            "otp": pyotp.TOTP(answer["totp_secret"]).now(),
        }
        async with http.post(f"{live.admin.url}/api/v1/login", json=body) as response:
            assert response.status == 200
            return str((await response.json())["token"])


async def me_status(live, token: str) -> int:
    fingerprint = bytes.fromhex(live.relay.server.fingerprint)
    connector = aiohttp.TCPConnector(ssl=aiohttp.Fingerprint(fingerprint))
    async with aiohttp.ClientSession(connector=connector) as http:
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{live.admin.url}/api/v1/me", headers=headers) as response:
            return response.status


def test_the_admins_tab_adds_resets_signs_out_and_deletes(console, qloop, live):
    run, admins = qloop.run_until_complete, console.admins
    run(admins.refresh())
    assert admins.table.keys == ["alice"]
    press(admins, "force_sign_out")  # nothing selected: said, nothing done
    run(settled(console))
    assert console.statusBar().currentMessage() == tr("error", message=tr("select_admin_first"))
    answer = run(admins.add("kimura", "helpdesk"))
    assert admins.table.keys == ["alice", "kimura"]
    assert not admins.qr_label.pixmap().isNull()  # the authenticator as a QR code
    shown = admins.secret.text()
    assert answer["password"] in shown and answer["totp_secret"] in shown
    assert "kimura" in admins.shown_for.text()
    assert live.relay.directory.get_admin("kimura").role == "helpdesk"

    token = run(signed_in_elsewhere(live, answer))
    assert run(me_status(live, token)) == 200
    assert run(admins.sign_out("kimura")) == 1
    assert run(me_status(live, token)) == 401
    assert console.statusBar().currentMessage() == tr("admin_signed_out", login="kimura", count=1)

    new = run(admins.reset_totp("kimura"))
    assert (
        new["totp_secret"] != answer["totp_secret"] and new["totp_secret"] in admins.secret.text()
    )
    assert answer["password"] not in admins.secret.text()  # only what was issued last

    admins.table.selectRow(admins.table.keys.index("alice"))
    (delete,) = [b for b in admins.findChildren(QPushButton) if b.text() == tr("delete")]
    delete.click()
    run(settled(console))
    assert console.statusBar().currentMessage() == tr("error", message=tr("api_error_admin_self"))
    assert live.relay.directory.get_admin("alice") is not None

    run(admins.delete("kimura"))
    assert admins.table.keys == ["alice"]
    assert admins.secret.text() == ""  # a deleted admin's secret is of no use to anyone
    run(asyncio.sleep(0))


def test_switching_municipality_takes_what_was_shown_once_off_the_screen(operator, qloop, live):
    run, admins = qloop.run_until_complete, operator.admins
    run(admins.add("ops2", "operator"))
    assert admins.secret.text()
    live.relay.directory.add_tenant("other-town")
    operator.tenant_box.addItem("other-town")
    operator.tenant_box.setCurrentText("other-town")
    assert admins.secret.text() == "" and admins.qr_label.pixmap().isNull()
    assert all(isinstance(label, QLabel) for label in (admins.secret, admins.shown_for))
