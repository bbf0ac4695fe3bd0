"""Charts with axes that say what they show (kbit/s over time, hours per day) and usage figures
with their units."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import viewer_session, wait_for

from apps.admin.charts import BarChart, LineChart, nice_ticks, tick_text
from apps.admin.texts import tr
from apps.common.i18n import set_language
from tests.integration.relay_harness import USER, HostAgent


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language(None)


def test_ticks_are_round_numbers_covering_the_values():
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]
    # Small values (an hour's use counted in hundredths) keep their decimals on the axis.
    assert [tick_text(t) for t in nice_ticks(0.07)] == ["0", "0.02", "0.04", "0.06", "0.08"]
    assert tick_text(0.1 + 0.2) == "0.3" and tick_text(12345) == "12,345"
    assert nice_ticks(7.5) == [0, 2, 4, 6, 8]
    assert nice_ticks(0.3)[-1] >= 0.3


def test_the_bandwidth_chart_has_a_kbit_per_s_axis_and_clock_times(qtbot):
    chart = LineChart("Bandwidth (kbit/s)", "Time", "No data")
    qtbot.addWidget(chart)
    assert chart.axes.empty_text == "No data"
    start = dt.datetime(2026, 4, 1, 9, 0).timestamp()
    times = [start + 60 * i for i in range(11)]
    chart.set_data([100.0 * i for i in range(11)], 800.0, times)
    assert chart.axes.y_title == "Bandwidth (kbit/s)" and chart.axes.empty_text == ""
    assert chart.axes.y_ticks[0] == 0 and chart.axes.y_ticks[-1] >= 1000
    assert [text for _, text in chart.axes.x_labels] == ["09:00", "09:05", "09:10"]
    chart.resize(500, 220)
    image = chart.grab().toImage()
    area = chart.axes.plot_area(chart, chart.fontMetrics())
    # Room on the left for the widest tick label ("1,200"), none of it drawn off the widget.
    assert area.left() > chart.fontMetrics().horizontalAdvance("1,200")
    assert image.pixelColor(int(area.left()), int(area.bottom())) != image.pixelColor(0, 0)


def test_the_usage_bars_have_an_hours_axis_and_days(qtbot):
    chart = BarChart("Hours used (h)", "Day")
    qtbot.addWidget(chart)
    chart.set_data([("2026-04-01", 1.5), ("2026-04-02", 3.0)])
    assert chart.axes.y_title == "Hours used (h)" and chart.axes.y_ticks[-1] >= 3.0
    assert [text for _, text in chart.axes.x_labels] == ["04-01", "04-02"]
    chart.set_data([(f"2026-04-{d:02}", 1.0) for d in range(1, 31)])
    assert len(chart.axes.x_labels) <= 15  # a month's days do not overlap


def test_the_monitoring_and_usage_tabs_say_their_units(console, live, qloop):
    run = qloop.run_until_complete
    relay = live.relay
    host = live.run(HostAgent(relay).start())
    try:
        run(console.grants.grant(USER, host.host_id))
        channel, _ = live.run(viewer_session(relay, host.host_id))
        live.close(channel)
        wait_for(lambda: relay.directory.list_audit(event="session_end"))
    finally:
        live.run(host.stop())
    monitoring, usage = console.monitoring, console.usage
    run(monitoring.refresh())
    assert "kbit/s" in monitoring.chart.axes.y_title
    assert monitoring.chart.axes.x_title == tr("chart_time_axis")

    run(usage.refresh())
    assert usage.chart.axes.y_title == tr("chart_hours_axis")
    last = usage.table.rowCount() - 1  # today
    row = [usage.table.item(last, c).text() for c in range(usage.table.columnCount())]
    assert row[1:] == ["1 PC(s)", "1 staff", "1 session(s)", "1 session(s)", "0.0 h"]
    assert usage.table.item(0, 5).text() == "0.0 h"  # no "0.0" without its unit
    assert usage.totals.text() == tr(
        "usage_totals", sessions="1 session(s)", hours="0.0 h", peak="1 session(s)"
    )
    set_language("ja")
    run(usage.refresh())
    assert usage.table.item(last, 5).text() == "0.0 時間"
    assert usage.table.item(last, 3).text() == "1 件"
