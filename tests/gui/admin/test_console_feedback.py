"""What the console tells the admin, against a real relay: a refusal in the admin's language
(never the API's English), each action saying it worked in place of the last error, and a
question (No by default) before anything that cannot be undone."""

from __future__ import annotations

import asyncio
import re

import pytest
from conftest import press, settled, until, viewer_session, wait_for
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from apps.admin.api import ApiFailure
from apps.admin.failures import describe_failure
from apps.admin.main import open_console
from apps.admin.texts import tr
from core.crypto.certs import format_host_id
from tests.integration.relay_harness import TENANT, USER, HostAgent

# An English word of three letters or more: none may be left in a Japanese status bar.
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
HOME_MAC = "02:00:00:00:00:01"  # what the harness's viewer reports


class Answers:
    """An admin who answers every question the same way, and the questions they were asked."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.questions: list[str] = []

    async def __call__(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer


def status(window) -> str:
    return window.statusBar().currentMessage()


def test_refusals_are_japanese_sentences_without_the_apis_english(console, live, qloop, japanese):
    run = qloop.run_until_complete
    console.spawn(console.staff.add(""), by_user=True)
    run(settled(console))
    assert status(console) == "エラー: 職員ID を入力してください"

    console.policies.idle.setValue(1)  # minute
    console.spawn(console.policies.save(None, console.policies.form_policy()), by_user=True)
    run(settled(console))
    assert status(console) == "エラー: 無操作タイムアウト (秒) は 300 以上にしてください"

    console.spawn(console.staff.add(USER), by_user=True)  # exists already
    run(settled(console))
    assert status(console) == tr("error", message=tr("api_error_already_exists"))
    assert not ENGLISH_WORD.search(status(console))

    _, password, _ = live.relay.directory.add_admin("bob", TENANT)
    with pytest.raises(ApiFailure) as refused:
        run(open_console(live.admin.url, live.relay.server.fingerprint, "bob", password, "0"))
    text = describe_failure(refused.value)
    assert text == "管理者ID、パスワードまたはワンタイムパスワードが違います"


def test_a_success_says_so_and_takes_the_last_error_away(console, live, qloop):
    run = qloop.run_until_complete
    staff = console.staff
    run(settled(console))
    press(staff, "add")  # with no login typed: refused
    run(settled(console))
    assert status(console).startswith(tr("error", message=""))

    staff.new_login.setText("sato")
    press(staff, "add")
    run(settled(console))
    assert status(console) == tr("staff_added", login="sato")

    # A refresh the admin asked for takes an error away too; the live refresh does not.
    press(staff, "add")  # "sato" again: refused, as it exists
    run(settled(console))
    error = status(console)
    console.spawn(console.sessions.refresh())
    run(settled(console))
    assert status(console) == error
    press(console.audit, "filter")
    run(settled(console))
    assert status(console) == ""

    staff.table.selectRow(staff.table.keys.index("sato"))
    press(staff, "disable")
    run(settled(console))
    assert status(console) == tr("staff_disabled", login="sato")


def test_each_destructive_action_asks_first_and_does_nothing_when_answered_no(console, live, qloop):
    run = qloop.run_until_complete
    relay, directory = live.relay, live.relay.directory
    directory.add_user(TENANT, "sato")
    host = live.run(HostAgent(relay).start())
    try:
        run(console.hosts.refresh())
        run(console.grants.grant(USER, host.host_id))
        run(console.home_pcs.register(HOME_MAC, "login", USER))
        wait_for(lambda: host.policies and host.policies[-1].get("allowed_macs"))

        channel, ok = live.run(viewer_session(relay, host.host_id))
        run(console.sessions.refresh())
        registration = directory.list_macs(TENANT)[0].id
        host_name = console.hosts.name_of(host.host_id)

        actions = [
            (
                lambda: console.sessions.end(ok.session_id),
                lambda: not relay.server.sessions,
                USER,
            ),
            (
                lambda: console.grants.revoke(USER, host.host_id),
                lambda: not directory.list_grants(TENANT),
                f"{host_name} ({format_host_id(host.host_id)})",  # the office PC by name
            ),
            (
                lambda: console.home_pcs.remove(registration),
                lambda: not directory.list_macs(TENANT),
                HOME_MAC,
            ),
            (
                lambda: console.hosts.retire(host.host_id),
                lambda: not directory.list_hosts(TENANT),
                host_name,
            ),
            (
                lambda: console.staff.reset("sato"),
                lambda: directory.list_audit(tenant=TENANT, event="admin.staff_reset"),
                "sato",
            ),
            (
                lambda: console.staff.delete("sato"),
                lambda: directory.get_user(TENANT, "sato") is None,
                "sato",
            ),
            (
                lambda: console.staff.issue_totp(USER),
                lambda: directory.list_audit(tenant=TENANT, event="admin.staff_totp"),
                USER,
            ),
        ]
        for action, done, name in actions:
            declined = Answers(False)
            console.confirm = declined
            run(action())
            (question,) = declined.questions
            assert name in question
            assert not done(), question
            console.confirm = Answers(True)
            run(action())
            wait_for(done)
        live.close(channel)
        # Re-issuing the QR says the authenticator in use stops working.
        assert question == tr("confirm_reissue_totp", login=USER)
    finally:
        live.run(host.stop())


@pytest.mark.parametrize("click", ["yes", "no", "enter", "escape"])
def test_the_question_is_a_translated_box_with_no_as_its_default(console, qloop, click):
    run = qloop.run_until_complete
    asked = asyncio.ensure_future(console.ask("本当に削除しますか？"))
    run(until(lambda: console.findChildren(QMessageBox)))
    (box,) = console.findChildren(QMessageBox)
    run(until(box.isVisible))
    assert box.windowTitle() == tr("confirm_title") and box.text() == "本当に削除しますか？"
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    if click == "yes":
        box.button(QMessageBox.StandardButton.Yes).click()
    elif click == "no":
        box.button(QMessageBox.StandardButton.No).click()
    else:
        key = Qt.Key.Key_Return if click == "enter" else Qt.Key.Key_Escape
        QTest.keyClick(box, key)
    assert run(asked) is (click == "yes")


def test_the_live_refresh_goes_on_while_a_question_waits(console, qloop):
    run = qloop.run_until_complete
    asked = asyncio.ensure_future(console.ask("?"))
    run(until(lambda: console.findChildren(QMessageBox)))
    run(console.sessions.refresh())  # another task runs meanwhile (with exec it could not)
    (box,) = console.findChildren(QMessageBox)
    box.button(QMessageBox.StandardButton.No).click()
    assert run(asked) is False


def test_going_back_and_forth_between_tabs_never_overlaps_one_tabs_refreshes(console, qloop):
    """The relay runs one report job per tenant at a time: a second, overlapping refresh of the
    usage tab would come back refused, as an error the admin did nothing to cause."""
    running, most, calls = 0, 0, 0
    release = asyncio.Event()

    async def slow_refresh() -> None:
        nonlocal running, most, calls
        running += 1
        calls += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    console.usage.refresh = slow_refresh
    failures: list[str] = []
    console.failed.connect(failures.append)
    for _ in range(3):  # to the usage tab, away, and back, three times while the first runs
        console.tabs.setCurrentWidget(console.usage)
        console.tabs.setCurrentWidget(console.staff)
    qloop.run_until_complete(asyncio.sleep(0.1))
    assert (running, calls) == (1, 1)
    release.set()
    qloop.run_until_complete(settled(console))
    assert most == 1 and calls == 2  # the asks made meanwhile were shared by one more refresh
    assert failures == []
