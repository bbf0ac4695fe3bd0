"""pytest-qt tests of ``telework-admin`` against a real relay on loopback: TOTP with a QR code
that decodes to the right otpauth URI, single-use codes, enrolment tokens that enrol a host,
home-PC registrations and policies that reach the host, live sessions ended from the console,
monitoring and usage charts, and audit export."""

from __future__ import annotations

import asyncio
import csv
import time

import numpy as np
import pyotp
import pytest
import zxingcpp
from conftest import viewer_session, wait_for
from PySide6.QtGui import QGuiApplication, QImage

from apps.admin import texts
from apps.admin.api import ApiFailure
from apps.common.i18n import set_language
from relay.store.staff import OtpResult
from tests.integration.relay_harness import TENANT, USER, HostAgent, wait_until
from transport.client import enroll, serve_control


def decode_qr(image: QImage) -> str:
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(gray.constBits(), np.uint8, gray.bytesPerLine() * gray.height())
    pixels = pixels.reshape(gray.height(), gray.bytesPerLine())[:, : gray.width()]
    (barcode,) = zxingcpp.read_barcodes(np.ascontiguousarray(pixels))
    return barcode.text


async def start_host_with_token(relay, token: str) -> HostAgent:
    """A scripted host enrolled with a token the console issued (not the harness's own)."""
    agent = HostAgent(relay)
    stream, enrolled = await enroll(relay.endpoint, token, agent.identity, "窓口PC", "1.2.3")
    agent.host_id, agent.secret, agent.stream = enrolled.host_id, enrolled.secret, stream
    agent.task = asyncio.create_task(
        serve_control(
            stream,
            relay.endpoint,
            agent.host_id,
            agent.secret,
            agent.identity,
            agent._decide,
            agent.session,
            on_policy=agent.policies.append,
        )
    )
    await wait_until(lambda: agent.host_id in relay.server.hosts)
    return agent


def test_staff_totp_qr_decodes_to_the_otpauth_uri_and_codes_work(console, live, qloop, tmp_path):
    run = qloop.run_until_complete
    run(console.staff.refresh())
    assert console.staff.table.item(0, 0).text() == USER
    answer = run(console.staff.issue_totp(USER))
    assert decode_qr(console.staff.qr) == answer["otpauth_uri"]
    assert console.staff.qr_label.pixmap() is not None
    secret = pyotp.parse_uri(answer["otpauth_uri"]).secret
    directory = live.relay.directory
    assert directory.verify_otp(TENANT, USER, pyotp.TOTP(secret).now(), time.time()) is (
        OtpResult.TOTP_OK
    )
    sheet = run(console.staff.print_sheet(tmp_path / "totp.pdf"))
    assert sheet is not None and sheet.read_bytes().startswith(b"%PDF")

    codes = run(console.staff.issue_codes(USER, 3))
    assert [console.staff.codes.item(i).text() for i in range(3)] == codes
    assert directory.verify_otp(TENANT, USER, codes[0], time.time()) is OtpResult.CODE_OK
    sheet = run(console.staff.print_sheet(tmp_path / "codes.pdf"))
    assert sheet.read_bytes().startswith(b"%PDF")

    run(console.staff.add("佐藤"))
    assert decode_qr(console.staff.qr).startswith("otpauth://totp/")
    assert "佐藤" in [console.staff.table.item(r, 0).text() for r in range(2)]
    with pytest.raises(ApiFailure) as refused:
        run(console.staff.add("佐藤"))
    assert refused.value.status == 409


def test_office_pc_home_pc_policy_session_and_audit(console, live, qloop, qtbot, tmp_path):
    run = qloop.run_until_complete
    relay = live.relay
    # Enrolment token from the console, copied, and used by a host to enrol.
    token = run(console.hosts.new_token())
    console.hosts.copy_token()
    assert QGuiApplication.clipboard().text() == token
    host = live.run(start_host_with_token(relay, token))
    try:
        run(console.hosts.refresh())
        (row,) = console.hosts.hosts
        assert row["host_id"] == host.host_id and row["online"] and row["agent_version"] == "1.2.3"

        # Grant and a home PC: the host receives the central list.
        run(console.grants.grant(USER, host.host_id))
        run(console.home_pcs.register("02-00-00-00-00-01", "login", USER, "自宅"))
        wait_for(lambda: host.policies and host.policies[-1].get("allowed_macs"))
        assert host.policies[-1]["allowed_macs"] == ["02:00:00:00:00:01"]
        assert console.home_pcs.table.item(0, 0).text() == "02:00:00:00:00:01"

        # A policy for this office PC, set through the form.
        run(console.policies.refresh())
        console.policies.scope.setCurrentIndex(1)
        console.policies.idle.setValue(10)  # minutes
        console.policies.watermark.setChecked(True)
        console.policies.start.setText("08:30")
        console.policies.end.setText("20:00")
        run(
            console.policies.save(
                console.policies.scope.currentData(), console.policies.form_policy()
            )
        )
        wait_for(lambda: host.policies[-1].get("idle_timeout_s") == 600)
        pushed = host.policies[-1]
        assert pushed["watermark"] is True and pushed["allowed_hours"]["start"] == "08:30"
        assert pushed["allowed_macs"] == ["02:00:00:00:00:01"]

        # A live session: listed, then ended from the console.
        channel, ok = live.run(viewer_session(relay, host.host_id))
        run(console.sessions.refresh())
        assert console.sessions.table.item(0, 0).text() == USER
        console.sessions.table.selectRow(0)
        assert console.sessions.table.selected_key() == ok.session_id
        run(console.sessions.end(ok.session_id))
        wait_for(lambda: not relay.server.sessions)
        live.close(channel)

        # Monitoring and usage tabs draw their charts.
        run(console.monitoring.refresh())
        console.monitoring.chart.resize(400, 200)
        assert not console.monitoring.chart.grab().isNull()
        run(console.usage.refresh())
        assert console.usage.table.rowCount() == 14
        usage_csv = run(console.usage.export(tmp_path / "usage.csv"))
        assert "peak_concurrent" in usage_csv.read_text(encoding="utf-8-sig")

        # The audit log, exported to CSV, holds what was done.
        run(console.audit.refresh())
        path = run(console.audit.export(tmp_path / "audit.csv"))
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
        events = {row[2] for row in rows[1:]}
        assert {
            "admin.enrollment_token",
            "host_enrolled",
            "admin.grant",
            "admin.home_pc_add",
            "admin.host_policy_set",
            "session_start",
            "admin.session_end_request",
            "session_end",
        } <= events
        kinds = console.audit.event_kind
        kinds.setCurrentIndex(kinds.findData("session_end"))
        assert console.audit.table.rowCount() == 1
    finally:
        live.run(host.stop())


def test_errors_show_in_the_status_bar(console, qloop, qtbot):
    with qtbot.waitSignal(console.failed, timeout=5000) as failed:
        console.spawn(console.staff.issue_codes(USER, 99))
        qloop.run_until_complete(asyncio.sleep(0.3))
    assert "10" in failed.args[0]


def test_japanese_and_english(qapp):
    # Every message in both languages: tests/unit/test_translations.py.
    set_language("ja_JP")
    assert texts.tr("tab_staff") == "職員"
    set_language("en_US")
    assert texts.tr("tab_staff") == "Staff"
