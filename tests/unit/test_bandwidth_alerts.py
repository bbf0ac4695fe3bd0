"""A tenant's bandwidth alert (relay.admin.monitor): raised once on crossing the threshold,
cleared only once the rate has stayed under the clearing line, not on one quiet second."""

from __future__ import annotations

from types import SimpleNamespace

from relay.admin.monitor import ALERT_CLEAR_RATIO, ALERT_CLEAR_SAMPLES, BandwidthMonitor

TENANT = "example-city"
THRESHOLD_BPS = 80_000


class Counters:
    """The relay as the monitor sees it: live sessions and the bytes each has moved."""

    def __init__(self) -> None:
        self.session = SimpleNamespace(tenant=TENANT, bytes_to_viewer=0, bytes_to_host=0)
        self.sessions = {"s1": self.session}
        self.now = 0.0

    def second(self, bps: int) -> None:
        """One second passes with the session moving ``bps``."""
        self.now += 1.0
        self.session.bytes_to_viewer += bps // 8


def _monitor(relay: Counters) -> BandwidthMonitor:
    monitor = BandwidthMonitor(relay, lambda: relay.now, lambda: relay.now)  # type: ignore[arg-type]
    monitor.limits[TENANT] = (THRESHOLD_BPS, None)
    return monitor


def _run(relay: Counters, monitor: BandwidthMonitor, rates: list[int]) -> list[str]:
    kinds = []
    for bps in rates:
        relay.second(bps)
        kinds += [event.kind for event in monitor.sample()]
    return kinds


def test_a_pause_shorter_than_the_clearing_run_neither_clears_nor_raises_again():
    relay = Counters()
    monitor = _monitor(relay)
    # At least one silent second, as a still screen's video has.
    busy, pause = [2 * THRESHOLD_BPS] * 3, [0] * max(1, ALERT_CLEAR_SAMPLES - 1)
    assert _run(relay, monitor, busy + pause + busy + pause + busy) == ["raised"]
    assert monitor.tenants[TENANT].alerting


def test_the_alert_clears_after_the_clearing_run_and_can_be_raised_again():
    relay = Counters()
    monitor = _monitor(relay)
    under = int(THRESHOLD_BPS * ALERT_CLEAR_RATIO) - 8_000
    kinds = _run(relay, monitor, [2 * THRESHOLD_BPS] + [under] * ALERT_CLEAR_SAMPLES)
    assert kinds == ["raised", "cleared"]
    assert not monitor.tenants[TENANT].alerting
    assert _run(relay, monitor, [2 * THRESHOLD_BPS]) == ["raised"]


def test_a_rate_between_the_clearing_line_and_the_threshold_keeps_the_alert():
    relay = Counters()
    monitor = _monitor(relay)
    between = (THRESHOLD_BPS + int(THRESHOLD_BPS * ALERT_CLEAR_RATIO)) // 2
    assert _run(relay, monitor, [2 * THRESHOLD_BPS] + [between] * 3 * ALERT_CLEAR_SAMPLES) == [
        "raised"
    ]
