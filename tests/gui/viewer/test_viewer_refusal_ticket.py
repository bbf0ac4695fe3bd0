"""After a refusal that left a ticket (office PC offline, busy, slow), Connect needs no new OTP."""

from __future__ import annotations

from apps.viewer.reconnect import ReconnectPlan

RETRY_HINT = "No new one-time password is needed: press Connect again."


def spy_on_submit(app) -> list[tuple[object, str]]:
    submitted: list[tuple[object, str]] = []
    app.dialog.submitted.disconnect(app._submitted)  # no network here
    app.dialog.submitted.connect(lambda settings, otp: submitted.append((settings, otp)))
    return submitted


def test_a_refusal_with_a_ticket_lets_connect_go_without_an_otp(app):
    submitted = spy_on_submit(app)
    app.client.plan = ReconnectPlan.after_refusal("ticket", app.client.clock())
    app.dialog.set_busy(True)
    app.client.refused.emit("host_offline", 0, (), ())
    assert RETRY_HINT in app.dialog.message.text()
    app.dialog.submit()  # the OTP field is empty
    assert len(submitted) == 1 and submitted[0][1] == ""


def test_without_a_ticket_the_otp_is_asked_again(app):
    submitted = spy_on_submit(app)
    app.dialog.set_busy(True)
    app.client.refused.emit("wrong_otp", 0, (), ())
    assert RETRY_HINT not in app.dialog.message.text()
    app.dialog.submit()
    assert submitted == [] and "One-time password" in app.dialog.message.text()
