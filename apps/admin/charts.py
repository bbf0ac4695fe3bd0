"""Two small charts drawn with QPainter (QtCharts is not in PySide6-Essentials): a line of a
tenant's bandwidth over time against its threshold, and bars of a figure per day.

Both have axes that say what they show: the value axis with round-numbered ticks and its
title with the unit (``kbit/s``, hours), the other axis with times or days. What is drawn is
also kept as plain data (:attr:`Axes.y_ticks`, :attr:`Axes.x_labels`...) for tests to read.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

PAD = 8  # pixels around the plot area and between a label and its axis
TICKS = 4  # about this many steps up the value axis
GRID = QColor("#e0e0e0")
AXIS = QColor("#606060")
LINE = QColor("#1565c0")
BAR = QColor("#2e7d32")


def nice_ticks(top: float, count: int = TICKS) -> list[float]:
    """Round tick values from 0 up to at least ``top`` (steps of 1, 2 or 5 times a power of
    ten), about ``count`` steps; ``[0, 1]`` when there is nothing to show."""
    if not top > 0 or not math.isfinite(top):
        return [0.0, 1.0]
    rough = top / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    steps = math.ceil(top / step - 1e-9)
    return [i * step for i in range(steps + 1)]


# Decimals a tick label may show: enough for steps down to 0.000001 (hours of a few seconds).
TICK_DECIMALS = 6


def tick_text(value: float) -> str:
    """A tick's value without needless decimals, with thousands separated: 0.02 stays 0.02
    (small steps once all read 0.0), 0.30000000000000004 reads 0.3."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{TICK_DECIMALS}f}".rstrip("0").rstrip(".")


def clock(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%H:%M")


@dataclass
class Axes:
    """What the axes say: the value axis's title (with its unit) and ticks, the other axis's
    title and labels (with where each sits, 0 to 1 along the axis)."""

    y_title: str = ""
    x_title: str = ""
    y_ticks: list[float] = field(default_factory=lambda: [0.0, 1.0])
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    empty_text: str = ""

    def plot_area(self, widget: QWidget, metrics: QFontMetrics) -> QRectF:
        """The rectangle inside the axes: room on the left for the tick labels, above for the
        value axis's title, below for the labels and the other axis's title."""
        label_width = max(metrics.horizontalAdvance(tick_text(t)) for t in self.y_ticks)
        line = metrics.height()
        left = PAD + label_width + PAD
        top = PAD + line + PAD // 2
        bottom = PAD + line + (line if self.x_title else 0) + PAD // 2
        rect = QRectF(widget.rect())
        return rect.adjusted(left, top, -PAD * 2, -bottom)

    def draw(self, painter: QPainter, widget: QWidget, area: QRectF) -> None:
        metrics = painter.fontMetrics()
        line = metrics.height()
        top = self.y_ticks[-1]
        for tick in self.y_ticks:
            y = area.bottom() - tick / top * area.height()
            painter.setPen(GRID)
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(AXIS)
            painter.drawText(
                QRectF(0, y - line / 2, area.left() - PAD, line),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                tick_text(tick),
            )
        painter.setPen(AXIS)
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        painter.drawText(
            QRectF(PAD, PAD / 2, widget.width() - 2 * PAD, line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.y_title,
        )
        for position, text in self.x_labels:
            x = area.left() + position * area.width()
            width = metrics.horizontalAdvance(text) + PAD
            # Kept inside the widget: the first label starts at the axis, the last ends there.
            left = min(max(x - width / 2, area.left() - PAD), widget.width() - width)
            painter.drawText(
                QRectF(left, area.bottom() + PAD / 2, width, line),
                Qt.AlignmentFlag.AlignHCenter,
                text,
            )
        if self.x_title:
            painter.drawText(
                QRectF(area.left(), area.bottom() + PAD / 2 + line, area.width(), line),
                Qt.AlignmentFlag.AlignHCenter,
                self.x_title,
            )
        if self.empty_text:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self.empty_text)


class LineChart(QWidget):
    """Values over time (oldest first) with an optional dashed threshold line."""

    def __init__(self, y_title: str = "", x_title: str = "", empty_text: str = "") -> None:
        super().__init__()
        self.values: list[float] = []
        self.times: list[float] = []
        self.threshold: float | None = None
        self.axes = Axes(y_title, x_title)
        self._empty_text = empty_text
        self.setMinimumHeight(180)
        self.set_data([], None)

    def set_data(
        self, values: list[float], threshold: float | None, times: list[float] | None = None
    ) -> None:
        """``values`` oldest first, taken at ``times`` (POSIX seconds, as many)."""
        self.values, self.threshold = values, threshold
        self.times = list(times) if times is not None and len(times) == len(values) else []
        self.axes.y_ticks = nice_ticks(max([*values, threshold or 0.0]) * 1.1)
        labels: list[tuple[float, str]] = []
        if len(self.times) >= 2:
            first, last = self.times[0], self.times[-1]
            span = (last - first) or 1.0
            picks = sorted({0, len(self.times) // 2, len(self.times) - 1})
            labels = [((self.times[i] - first) / span, clock(self.times[i])) for i in picks]
        self.axes.x_labels = labels
        self.axes.empty_text = self._empty_text if len(values) < 2 else ""
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor("white"))
            area = self.axes.plot_area(self, painter.fontMetrics())
            self.axes.draw(painter, self, area)
            top = self.axes.y_ticks[-1]
            if self.threshold is not None:
                y = area.bottom() - self.threshold / top * area.height()
                pen = QPen(QColor("red"))
                pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            if len(self.values) >= 2:
                step = area.width() / (len(self.values) - 1)
                line = QPolygonF(
                    [
                        QPointF(area.left() + i * step, area.bottom() - v / top * area.height())
                        for i, v in enumerate(self.values)
                    ]
                )
                painter.setPen(QPen(LINE, 2))
                painter.drawPolyline(line)
        finally:
            painter.end()


class BarChart(QWidget):
    """One bar per label (a day), against a value axis with its unit."""

    def __init__(self, y_title: str = "", x_title: str = "", empty_text: str = "") -> None:
        super().__init__()
        self.bars: list[tuple[str, float]] = []
        self.axes = Axes(y_title, x_title)
        self._empty_text = empty_text
        self.setMinimumHeight(180)
        self.set_data([])

    def set_data(self, bars: list[tuple[str, float]]) -> None:
        """``bars`` as (label, value); a label that is an ISO date shows as MM-DD."""
        self.bars = bars
        self.axes.y_ticks = nice_ticks(max((v for _, v in bars), default=0.0) * 1.1)
        count = len(bars)
        # Every label if they fit (about 14), else every n-th: they must not overlap.
        every = max(1, math.ceil(count / 14))
        self.axes.x_labels = [
            ((i + 0.5) / count, label[-5:]) for i, (label, _) in enumerate(bars) if i % every == 0
        ]
        self.axes.empty_text = "" if bars else self._empty_text
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor("white"))
            area = self.axes.plot_area(self, painter.fontMetrics())
            self.axes.draw(painter, self, area)
            if not self.bars:
                return
            top = self.axes.y_ticks[-1]
            width = area.width() / len(self.bars)
            for i, (_, value) in enumerate(self.bars):
                height = value / top * area.height()
                bar = QRectF(area.left() + i * width + 2, area.bottom() - height, width - 4, height)
                painter.fillRect(bar, BAR)
        finally:
            painter.end()
