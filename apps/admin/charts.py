"""Two small charts drawn with QPainter (QtCharts is not in PySide6-Essentials): a line of a
tenant's bandwidth against its threshold, and bars of daily usage."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

MARGIN = 24


class LineChart(QWidget):
    """Values over time (oldest first) with an optional dashed threshold line."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []
        self.threshold: float | None = None
        self.setMinimumHeight(160)

    def set_data(self, values: list[float], threshold: float | None) -> None:
        self.values, self.threshold = values, threshold
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            area = QRectF(self.rect()).adjusted(MARGIN, MARGIN / 2, -MARGIN / 2, -MARGIN)
            painter.fillRect(self.rect(), QColor("white"))
            painter.setPen(QColor("gray"))
            painter.drawRect(area)
            top = max([*self.values, self.threshold or 0, 1.0]) * 1.15
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
                painter.setPen(QPen(QColor("#1565c0"), 2))
                painter.drawPolyline(line)
        finally:
            painter.end()


class BarChart(QWidget):
    """One bar per label."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: list[tuple[str, float]] = []
        self.setMinimumHeight(160)

    def set_data(self, bars: list[tuple[str, float]]) -> None:
        self.bars = bars
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor("white"))
            area = QRectF(self.rect()).adjusted(MARGIN, MARGIN / 2, -MARGIN / 2, -MARGIN)
            if not self.bars:
                return
            top = max(max(v for _, v in self.bars), 1.0) * 1.15
            width = area.width() / len(self.bars)
            for i, (label, value) in enumerate(self.bars):
                height = value / top * area.height()
                bar = QRectF(area.left() + i * width + 2, area.bottom() - height, width - 4, height)
                painter.fillRect(bar, QColor("#2e7d32"))
                painter.setPen(QColor("black"))
                painter.drawText(
                    QRectF(bar.left(), area.bottom() + 2, width, MARGIN - 4),
                    Qt.AlignmentFlag.AlignHCenter,
                    label[-5:],
                )
        finally:
            painter.end()
