"""The burned-in watermark's tile, drawn with Qt: the text once, slanted, on a transparent tile.

Qt draws any script the office PC has fonts for (Japanese names, the admin's words), which a
bitmap font in ``core/`` could not; :class:`core.media.overlay.Overlay` then tiles the result
over each frame without Qt. The tile is drawn again only when its text changes (the time in it,
once a minute), on the thread that runs the agent's event loop: Qt draws text on the thread of
its application object.

Legible yet cheap at 0.1 Mbit/s: light text with a dark shadow (readable on white documents
and dark windows alike), half transparent, far apart, and still, so H.264 predicts it from the
previous picture at almost no cost.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QCoreApplication, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QApplication

WATERMARK_PIXEL_SIZE = 18  # 12 px after economy mode's 2/3 downscale: still readable
WATERMARK_ANGLE = -25.0  # degrees, as the viewer's own watermark slants
# Opacity of the light text and of its shadow: stronger than the viewer's overlay (56), which
# x264 would smooth away at this bit rate, and still faint enough to read the screen through.
WATERMARK_ALPHA = 96
WATERMARK_GAP_PX = 110  # empty space around each copy: a sparse mark costs less and hides less
WATERMARK_SHADOW_PX = 1.0

_app: QCoreApplication | None = None  # the headless agent's own, kept alive with the process


def _ensure_app() -> None:
    """Qt needs an application object to draw text: the tray agent has one; the headless
    agent (no display) gets an offscreen one on first use."""
    global _app
    if QCoreApplication.instance() is None:
        _app = QApplication(["telework-host", "-platform", "offscreen"])


def render_tile(text: str) -> npt.NDArray[np.uint8]:
    """``text`` slanted on a transparent tile, as (h, w, 4) premultiplied BGRA."""
    _ensure_app()
    font = QFont()
    font.setPixelSize(WATERMARK_PIXEL_SIZE)
    font.setBold(True)
    metrics = QFontMetricsF(font)
    text_w, text_h = metrics.horizontalAdvance(text), metrics.height()
    angle = math.radians(abs(WATERMARK_ANGLE))
    width = math.ceil(text_w * math.cos(angle) + text_h * math.sin(angle)) + WATERMARK_GAP_PX
    height = math.ceil(text_w * math.sin(angle) + text_h * math.cos(angle)) + WATERMARK_GAP_PX
    image = QImage(width, height, QImage.Format.Format_RGBA8888_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setFont(font)
        painter.translate(width / 2, height / 2)
        painter.rotate(WATERMARK_ANGLE)
        origin = QPointF(-text_w / 2, metrics.ascent() - text_h / 2)
        shadow = QPointF(WATERMARK_SHADOW_PX, WATERMARK_SHADOW_PX)
        painter.setPen(QColor(0, 0, 0, WATERMARK_ALPHA))
        painter.drawText(origin + shadow, text)
        painter.setPen(QColor(255, 255, 255, WATERMARK_ALPHA))
        painter.drawText(origin, text)
    finally:
        painter.end()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    rgba = rows[:, : width * 4].reshape(height, width, 4)
    return np.ascontiguousarray(rgba[..., [2, 1, 0, 3]])  # RGBA bytes -> BGRA
