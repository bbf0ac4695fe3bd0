"""The console against a real relay where data and people are awkward: logins with characters
that mean something in a URL, sign-in mistakes and a relay that does not answer, failures that
are not the API's, and an operator switching between tenants."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from conftest import credentials, press, settled, until

from apps.admin import api
from apps.admin.api import ApiFailure
from apps.admin.main import LoginDialog, open_console, sign_in
from apps.admin.tabs.base import TenantChanged
from apps.admin.texts import tr
from apps.admin.window import MainWindow
from core.crypto.certs import fingerprint, generate_identity, host_id_for_certificate
from core.crypto.tls import server_context
from tests.integration.admin.background import RelayThread
from tests.integration.relay_harness import TENANT, USER

OTHER = "other-town"
SHARED = "shared"  # a login in both tenants
# Logins the relay accepts whose characters mean something in a URL's path.
RESERVED_LOGINS = ["a#b", "a/b", "a?b", "a%2Fb", "..", "."]
# Seconds the client waits for a relay that never answers (scaled down from 30).
TEST_TIMEOUT_S = 0.3


@pytest.fixture
def live(tmp_path):
    background = RelayThread(tmp_path)
    directory = background.relay.directory
    directory.add_tenant(OTHER)
    for tenant in (TENANT, OTHER):
        directory.add_user(tenant, SHARED)
    yield background
    background.stop()


def logins(tab) -> list[str]:
    return [tab.table.item(r, 0).text() for r in range(tab.table.rowCount())]


# --- 1. data in a path ---


def test_staff_whose_login_holds_url_characters_are_managed_as_themselves(operator, live, qloop):
    run = qloop.run_until_complete
    directory = live.relay.directory
    for login in ["a", *RESERVED_LOGINS, "a#b/c"]:
        directory.add_user(TENANT, login)
    staff = operator.staff
    run(staff.refresh())

    # Delete, as a user does it: select the row, press the button. Unquoted, "a#b" was "a".
    staff.table.selectRow(staff.table.keys.index("a#b"))
    press(staff, "delete")
    run(settled(operator))
    assert directory.get_user(TENANT, "a#b") is None
    assert directory.get_user(TENANT, "a") is not None

    for login in [*RESERVED_LOGINS[1:], "a#b/c"]:
        assert run(staff.issue_totp(login))["login"] == login  # not another one's new secret
        assert run(staff.issue_codes(login, 2)) and staff.last_codes["login"] == login
        run(staff.reset(login))
        run(staff.set_disabled(login, True))
        assert directory.get_user(TENANT, login).disabled, login
    assert not directory.get_user(TENANT, "a").disabled


def test_a_grant_of_a_login_holding_url_characters_is_revoked_alone(operator, live, qloop):
    run = qloop.run_until_complete
    directory = live.relay.directory
    pc = generate_identity("office-pc")
    host_id = host_id_for_certificate(pc.cert_der)
    token = directory.issue_enrollment_token(TENANT, 600, time.time())
    directory.redeem_enrollment_token(token, host_id, pc.cert_pem.decode(), "PC", "1", time.time())
    for login in ("a", "a#b"):
        directory.add_user(TENANT, login)
        run(operator.grants.grant(login, host_id))
    run(operator.grants.revoke("a#b", host_id))
    assert directory.list_grants(TENANT) == [("a", host_id)]


# --- 2. sign-in and failures ---


def test_a_mistyped_fingerprint_is_refused_with_a_message(live, qloop):
    password, otp = credentials(live, "alice", TENANT)
    for typed in ("", "12:34"):
        with pytest.raises(ApiFailure) as refused:
            qloop.run_until_complete(open_console(live.admin.url, typed, "alice", password, otp))
        assert refused.value.message == tr("bad_fingerprint")


@pytest.fixture
def dialogs(qapp, qtbot):
    """New sign-in dialogs, in an app that (as ``main`` sets it) outlives a closed dialog:
    otherwise Qt would quit, and stop the loop, as soon as one is accepted."""
    qapp.setQuitOnLastWindowClosed(False)

    def new(*fields: str) -> LoginDialog:
        dialog = LoginDialog(*fields)
        qtbot.addWidget(dialog)
        return dialog

    yield new
    qapp.setQuitOnLastWindowClosed(True)


async def answer(dialog: LoginDialog, password: str, otp: str) -> None:
    """As the user: wait for the dialog, type the secrets, press OK."""
    await until(dialog.isVisible)
    dialog.password.setText(password)
    dialog.otp.setText(otp)
    dialog.accept()


def test_after_a_refused_sign_in_the_same_dialog_says_why_and_keeps_what_was_typed(
    live, qloop, qtbot, dialogs
):
    password, otp = credentials(live, "alice", TENANT)
    url, pin = live.admin.url, live.relay.server.fingerprint
    dialog = dialogs(url, pin, "alice")

    async def user() -> MainWindow | None:
        signing_in = asyncio.ensure_future(sign_in(dialog))
        await answer(dialog, "wrong password", otp)
        await until(lambda: dialog.message.text() and dialog.isVisible())
        assert (dialog.url.text(), dialog.fingerprint.text(), dialog.login.text()) == (
            url,
            pin,
            "alice",
        )
        assert dialog.password.text() == "" and dialog.otp.text() == ""
        assert dialog.focusWidget() is dialog.password  # the first field to type again
        await answer(dialog, password, otp)
        return await signing_in

    window = qloop.run_until_complete(user())
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    qloop.run_until_complete(window.client.sign_out())
    qloop.run_until_complete(window.client.close())


def test_a_bad_address_or_fingerprint_is_explained_on_the_dialog(live, qloop, dialogs):
    pin = live.relay.server.fingerprint
    plain_http = live.admin.url.replace("https://", "http://")
    for url, typed_pin, expected in (
        (live.admin.url, "", tr("bad_fingerprint")),
        (plain_http, pin, tr("bad_url", url=plain_http)),
    ):
        dialog = dialogs(url, typed_pin, "alice")

        async def user(dialog=dialog) -> MainWindow | None:
            signing_in = asyncio.ensure_future(sign_in(dialog))
            await answer(dialog, "password", "123456")
            await until(lambda dialog=dialog: dialog.message.text() and dialog.isVisible())
            dialog.reject()
            return await signing_in

        assert qloop.run_until_complete(user()) is None
        assert dialog.message.text() == tr("error", message=expected)


async def silent_relay(identity):
    """A TLS server with the relay's certificate that never answers a request."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    return await asyncio.start_server(hold, "127.0.0.1", 0, ssl=server_context(identity))


def test_a_relay_that_does_not_answer_is_reported_at_sign_in(qloop, dialogs, monkeypatch):
    monkeypatch.setattr(api, "REQUEST_TIMEOUT_S", TEST_TIMEOUT_S)
    identity = generate_identity("relay")
    server = qloop.run_until_complete(silent_relay(identity))
    port = server.sockets[0].getsockname()[1]
    dialog = dialogs(f"https://127.0.0.1:{port}", fingerprint(identity.cert_der), "alice")

    async def user() -> MainWindow | None:
        signing_in = asyncio.ensure_future(sign_in(dialog))
        await answer(dialog, "password", "123456")
        await until(lambda: dialog.message.text() and dialog.isVisible())
        dialog.reject()
        return await signing_in

    try:
        assert qloop.run_until_complete(user()) is None
    finally:
        server.close()
        qloop.run_until_complete(server.wait_closed())
    expected = tr("timed_out", seconds=f"{TEST_TIMEOUT_S:g}")
    assert dialog.message.text() == tr("error", message=expected)


def test_a_failure_that_is_not_the_apis_is_reported_and_logged(
    operator, qloop, qtbot, tmp_path, caplog
):
    missing = tmp_path / "no-such-folder" / "usage.csv"
    with qtbot.waitSignal(operator.failed, timeout=5000) as failed:
        operator.spawn(operator.usage.export(missing))
        qloop.run_until_complete(settled(operator))
    assert "FileNotFoundError" in failed.args[0]
    assert operator.statusBar().currentMessage() == tr("error", message=failed.args[0])
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert isinstance(record.exc_info[1], FileNotFoundError)


# --- 3. switching tenant ---


def test_switching_tenant_forgets_the_old_tenants_secrets_and_rows_at_once(
    operator, live, qloop, tmp_path
):
    run = qloop.run_until_complete
    staff, hosts = operator.staff, operator.hosts
    run(hosts.new_token())
    run(staff.refresh())
    run(staff.issue_totp(USER))
    run(staff.issue_codes(USER, 2))
    staff.table.selectRow(staff.table.keys.index(SHARED))

    operator.tenant_box.setCurrentText(OTHER)
    # Before the relay could answer anything for OTHER:
    assert hosts.token.text() == "" and hosts.code_view.toPlainText() == ""
    assert hosts.sheet is None and hosts.qr_label.pixmap().isNull()
    assert staff.qr is None and staff.qr_label.pixmap().isNull()
    assert staff.uri_label.text() == "" and staff.codes.count() == 0
    # Nothing of TENANT's left to print as OTHER's (without running the loop: see above).
    assert staff.last_totp is None and staff.last_codes is None
    assert not staff.print_button.isEnabled() and not staff.pdf_button.isEnabled()
    assert staff.table.rowCount() == 0 and staff.table.selected_key() is None
    # Delete pressed now must not take TENANT's selection to OTHER.
    press(staff, "delete")
    run(settled(operator))
    assert live.relay.directory.get_user(OTHER, SHARED) is not None
    assert SHARED in logins(staff) and USER not in logins(staff)


def test_answers_for_a_tenant_no_longer_selected_are_not_shown(operator, live, qloop):
    run = qloop.run_until_complete
    staff = operator.staff
    late_secret = asyncio.ensure_future(staff.issue_totp(SHARED))
    late_rows = asyncio.ensure_future(staff.refresh())
    run(asyncio.sleep(0))  # both requests are on their way, for TENANT
    operator.tenant_box.setCurrentText(OTHER)
    for late in (late_secret, late_rows):
        with pytest.raises(TenantChanged):
            run(late)
    assert staff.qr is None and staff.uri_label.text() == ""
    run(settled(operator))
    assert USER not in logins(staff) and SHARED in logins(staff)
    assert operator.statusBar().currentMessage() == ""
