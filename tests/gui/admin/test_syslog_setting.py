"""The console's syslog section, against a real relay: a tenant admin sets a TLS collector with
its CA file, sees UDP marked as unencrypted, is told in words why bad input is refused (and
nothing changes), and stops forwarding."""

from __future__ import annotations

from conftest import settled

from apps.admin.texts import tr
from core.crypto.certs import generate_identity
from tests.integration.relay_harness import TENANT


def status(window) -> str:
    return window.statusBar().currentMessage()


def test_a_tenant_admin_sets_a_tls_collector_with_its_ca_then_stops(console, live, qloop, tmp_path):
    run, monitoring = qloop.run_until_complete, console.monitoring
    box = monitoring.syslog
    run(monitoring.refresh())
    assert box.now.text() == tr("syslog_now_none")
    pem = generate_identity("collector").cert_pem.decode()
    (tmp_path / "ca.pem").write_text(pem)
    box.load_ca(tmp_path / "ca.pem")
    assert box.ca_state.text() == tr("syslog_ca_loaded", name="ca.pem")
    box.url.setText("tls://logs.example.jp")
    assert box.warning.isHidden()
    box.save_button.click()
    run(settled(console))
    assert status(console) == tr("syslog_saved")
    stored = live.relay.directory.get_syslog(TENANT)
    assert (stored.url, stored.ca_pem) == ("tls://logs.example.jp:6514", pem)
    assert box.now.text() == tr("syslog_now", url="tls://logs.example.jp:6514")

    box.stop_button.click()
    run(settled(console))
    assert status(console) == tr("syslog_stopped")
    assert live.relay.directory.get_syslog(TENANT) is None
    assert box.now.text() == tr("syslog_now_none")


def test_udp_is_marked_unencrypted(console, live, qloop):
    run, box = qloop.run_until_complete, console.monitoring.syslog
    box.url.setText("udp://192.0.2.7")
    assert not box.warning.isHidden()
    box.save_button.click()
    run(settled(console))
    unencrypted = tr("syslog_now_unencrypted", url="udp://192.0.2.7:514")
    assert box.now.text() == tr("syslog_now", url=unencrypted)


def test_bad_input_is_explained_and_changes_nothing(console, live, qloop):
    run, box = qloop.run_until_complete, console.monitoring.syslog
    box.url.setText("tls://logs.example.jp:70000")
    box.save_button.click()
    run(settled(console))
    sentence = tr("api_error_syslog_bad_port").format(minimum=1, maximum=65535)
    assert status(console) == tr("error", message=sentence)
    box.url.setText("")
    box.save_button.click()
    run(settled(console))
    assert status(console) == tr("error", message=tr("syslog_url_missing"))
    assert live.relay.directory.get_syslog(TENANT) is None
