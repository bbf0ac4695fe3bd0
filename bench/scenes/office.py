"""The reference office workload: a 1920x1080 desktop replayed deterministically.

A Japanese and English document and a spreadsheet in two overlapping windows, a taskbar with a
clock, and a fixed script of what a member of staff does for about seven and a half minutes:
five minutes of typing (a key roughly every 200 ms), caret blink, pointer moves, wheel scrolls,
window switches and two idle minutes. Every frame is a pure function of the scene time, so two
runs of the benchmark see exactly the same pixels.

Rendering uses QPainter on a QImage (offscreen platform); the result is a BGRA ``numpy`` array,
the same layout ``mss`` gives, so the benchmark feeds it to the pipeline as a captured frame.
"""

from __future__ import annotations

import itertools
import os
import random
from dataclasses import dataclass
from functools import cached_property

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QImage, QPainter

WIDTH, HEIGHT = 1920, 1080
TASKBAR_H = 40
TITLE_H = 30
RIBBON_H = 64
LINE_H = 25  # Word's Japanese default page: 36 lines on A4, 25 px apart at 100 % zoom
PAGE_W = 794  # an A4 page at 100 % zoom (96 dpi)
PAGE_MARGIN = 97  # Word's Japanese default margins (~25 mm) leave 40 characters a line
TEXT_W = PAGE_W - 2 * PAGE_MARGIN
SCROLL_LINES_PER_NOTCH = 3  # the Windows default wheel setting
KEY_INTERVAL_S = 0.2  # the "a key every ~200 ms"
KEY_JITTER_S = 0.06
CARET_HALF_PERIOD_S = 0.53  # Windows' default caret blink time
SEED = 20240601

# Window rectangles (x, y, w, h): overlapping, neither maximised, like a real desk.
DOC_RECT = (60, 30, 1180, 960)
SHEET_RECT = (560, 90, 1300, 900)

DOC_PARAGRAPHS = [
    "令和6年度 テレワーク実施要領(案)",
    "1. 目的 本要領は、職員が自宅等において庁内の端末を遠隔操作し、"
    "業務を継続するための手順と留意事項を定めるものである。"
    "The purpose of this guideline is to keep services running when staff cannot come in.",
    "2. 対象業務 文書作成、表計算による集計、メールの確認及び庁内システムの照会とする。"
    "個人情報を含む帳票の印刷及びファイルの持ち出しは認めない。",
    "3. 通信 画面転送方式とし、端末から外部へ出るのは画面の情報のみとする。"
    "Only pixels leave the office: no clipboard, no files, no printing at home.",
    "4. 認証 ワンタイムパスワード(6桁、有効期間5分)及び登録済み端末のMACアドレスにより"
    "本人及び端末を確認する。連続して5回失敗した場合は5分間利用を停止する。",
    "5. 帯域 一セッション当たりの帯域は0.1Mbpsを上限とし、"
    "文字が読みやすいことを最優先とする。Text must stay crisp within 0.1 Mbps.",
    "6. 利用時間 原則として平日8時30分から17時15分までとし、時間外の利用は所属長の承認を要する。",
    "7. 記録 接続の開始及び終了の時刻、利用者、端末を記録し、"
    "月ごとに情報政策課へ報告する。Usage statistics are reported every five minutes.",
    "8. 緊急時 災害その他の緊急時には、情報政策課長が別に定めるところにより"
    "臨時のワンタイムパスワードを発行することができる。",
    "9. その他 この要領に定めるもののほか、必要な事項は別に定める。",
    "附則 この要領は、令和6年4月1日から施行する。",
    "別表1 接続先一覧 本庁舎 3階 総務課、4階 企画課、5階 情報政策課、"
    "第二庁舎 1階 市民課、2階 税務課。Branch offices follow the same rules.",
    "別表2 問い合わせ先 情報政策課 内線 2345 (平日 8:30-17:15)",
] * 3

TYPED_DOC = (
    "在宅勤務の申請は、前日の15時までに所属長へ提出すること。"
    "Requests must reach the section head by 3 p.m. the day before. "
    "申請書には業務内容、使用する端末の番号及び連絡先を記載する。"
    "The viewer shows only the screen; keyboard and mouse go back to the office PC. "
    "通信が不安定な場合は、画面の更新間隔が長くなることがある。"
) * 8

SHEET_HEADERS = ["課名", "4月", "5月", "6月", "7月", "8月", "9月", "合計", "前年比", "備考"]
SHEET_ROWS = [
    "総務課",
    "企画課",
    "財政課",
    "税務課",
    "市民課",
    "福祉課",
    "保健課",
    "環境課",
    "建設課",
    "水道課",
    "教育課",
    "議会事務局",
    "会計課",
    "消防本部",
    "情報政策課",
]
TYPED_SHEET = "1250 3380 4120 990 2760 3315 8800 1045 2210 5530 " * 40

FONT_FAMILY = "Noto Sans CJK JP"


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    kind: str  # "settle" | "type" | "scroll" | "idle" | "point"
    window: str  # "doc" | "sheet": which window is in front


# The script. Typing adds up to five minutes; two idle minutes; five window switches.
SCRIPT = [
    Segment(0, 5, "settle", "doc"),
    Segment(5, 65, "type", "doc"),
    Segment(65, 71, "scroll", "doc"),
    Segment(71, 131, "type", "sheet"),
    Segment(131, 191, "idle", "sheet"),
    Segment(191, 251, "type", "doc"),
    Segment(251, 257, "scroll", "doc"),
    Segment(257, 317, "type", "sheet"),
    Segment(317, 377, "type", "doc"),
    Segment(377, 437, "idle", "doc"),
    Segment(437, 450, "point", "sheet"),
]
DURATION_S = SCRIPT[-1].end


def _app() -> QGuiApplication:
    app = QGuiApplication.instance()
    return app if isinstance(app, QGuiApplication) else QGuiApplication([])


@dataclass(frozen=True)
class Pointer:
    x: int
    y: int
    shape: str  # "arrow" | "ibeam"


class OfficeScene:
    """Frames and ground truth of the office workload at any scene time ``t`` (seconds)."""

    width = WIDTH
    height = HEIGHT

    def __init__(self, duration_s: float = DURATION_S) -> None:
        self.app = _app()
        self.duration_s = min(duration_s, DURATION_S)
        self.font = QFont(FONT_FAMILY)
        self.font.setPixelSize(15)
        self.small = QFont(FONT_FAMILY)
        self.small.setPixelSize(13)
        self.metrics = QFontMetrics(self.font)
        self._image = QImage(WIDTH, HEIGHT, QImage.Format.Format_RGB32)
        self._cache_key: tuple[object, ...] | None = None
        self._cache: np.ndarray | None = None
        rng = random.Random(SEED)
        self.key_times: dict[str, list[float]] = {"doc": [], "sheet": []}
        for seg in SCRIPT:
            if seg.kind == "type":
                t = seg.start + 0.5
                while t < seg.end - 0.3:
                    self.key_times[seg.window].append(t)
                    t += KEY_INTERVAL_S + rng.uniform(-KEY_JITTER_S, KEY_JITTER_S)
        self.scroll_times = [
            seg.start + 0.8 + 0.6 * i for seg in SCRIPT if seg.kind == "scroll" for i in range(8)
        ]

    # ----- script queries -------------------------------------------------------------
    def segment(self, t: float) -> Segment:
        for seg in SCRIPT:
            if seg.start <= t < seg.end:
                return seg
        return SCRIPT[-1]

    @cached_property
    def switch_times(self) -> list[float]:
        """Scene times at which the other window comes to the front."""
        out = []
        for prev, seg in itertools.pairwise(SCRIPT):
            if seg.window != prev.window and seg.start < self.duration_s:
                out.append(seg.start)
        return out

    def keys_typed(self, window: str, t: float) -> int:
        times = self.key_times[window]
        lo, hi = 0, len(times)
        while lo < hi:
            mid = (lo + hi) // 2
            if times[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def last_key_time(self, window: str, t: float) -> float:
        n = self.keys_typed(window, t)
        return self.key_times[window][n - 1] if n else -1.0

    def scroll_notches(self, t: float) -> int:
        """Net wheel notches so far: down in the first scroll segment, up in the second."""
        down = sum(1 for s in self.scroll_times[:8] if s <= t)
        up = sum(1 for s in self.scroll_times[8:] if s <= t)
        return down - up // 2

    def last_big_change(self, t: float) -> float:
        """Latest switch or scroll at or before ``t`` (for 'steady state' in the benchmark)."""
        events = [s for s in self.switch_times + self.scroll_times if s <= t]
        return max(events, default=0.0)

    def pointer(self, t: float) -> Pointer:
        seg = self.segment(t)
        if seg.kind in ("point", "scroll", "settle") or (t - seg.start) < 1.5:
            # A slow Lissajous path over the front window: a moving pointer, never in the video.
            x = 900 + int(500 * np.sin(t * 0.9))
            y = 500 + int(300 * np.sin(t * 1.3))
        else:
            x, y = (700, 600) if seg.window == "doc" else (1200, 500)
        shape = "ibeam" if seg.window == "doc" and 100 < x < 1200 and 150 < y < 950 else "arrow"
        return Pointer(x, y, shape)

    def focus_rect(self, t: float) -> tuple[int, int, int, int]:
        """The front window (x, y, w, h): what the host learns from the OS as the active window."""
        return DOC_RECT if self.segment(t).window == "doc" else SHEET_RECT

    def text_rect(self, t: float) -> tuple[int, int, int, int]:
        """The front window's content area (x, y, w, h): where text SSIM is measured."""
        top = TITLE_H + RIBBON_H
        if self.segment(t).window == "doc":
            x, y, w, h = DOC_RECT
            page_x = x + (w - PAGE_W) // 2
            return (page_x + PAGE_MARGIN - 4, y + top + 24, TEXT_W + 8, h - top - 40)
        x, y, w, h = SHEET_RECT
        return (x, y + top + 30, w, h - top - 30)

    # ----- rendering ------------------------------------------------------------------
    def caret_on(self, window: str, t: float) -> bool:
        since = t - max(self.last_key_time(window, t), self.segment(t).start)
        return int(since / CARET_HALF_PERIOD_S) % 2 == 0

    def state(self, t: float) -> tuple[object, ...]:
        front = self.segment(t).window
        return (
            front,
            self.keys_typed("doc", t),
            self.keys_typed("sheet", t),
            self.scroll_notches(t),
            self.caret_on(front, t),
            int((9 * 3600 + 12 * 60 + t) // 60),  # the taskbar clock shows minutes
        )

    def render(self, t: float) -> np.ndarray:
        """The desktop at scene time ``t`` as a (1080, 1920, 4) BGRA array (do not modify)."""
        key = self.state(t)
        if key != self._cache_key or self._cache is None:
            self._paint(*key)  # type: ignore[arg-type]
            bits = self._image.constBits()
            arr = np.frombuffer(bits, dtype=np.uint8).reshape(HEIGHT, WIDTH, 4)
            self._cache = arr.copy()
            self._cache.flags.writeable = False
            self._cache_key = key
        return self._cache

    def _paint(
        self, front: str, doc_keys: int, sheet_keys: int, notches: int, caret: bool, minute: int
    ) -> None:
        p = QPainter(self._image)
        try:
            p.fillRect(0, 0, WIDTH, HEIGHT, QColor(0, 84, 147))  # plain wallpaper, as offices set
            order = ["sheet", "doc"] if front == "doc" else ["doc", "sheet"]
            for win in order:
                active = win == front
                if win == "doc":
                    self._paint_doc(p, doc_keys, notches, caret and active, active)
                else:
                    self._paint_sheet(p, sheet_keys, caret and active, active)
            self._paint_taskbar(p, front, minute)
        finally:
            p.end()

    def _frame(
        self, p: QPainter, rect: tuple[int, int, int, int], title: str, active: bool
    ) -> None:
        x, y, w, h = rect
        p.fillRect(x - 1, y - 1, w + 2, h + 2, QColor(90, 90, 90))
        p.fillRect(x, y, w, h, QColor(255, 255, 255))
        p.fillRect(x, y, w, TITLE_H, QColor(43, 87, 154) if active else QColor(200, 200, 200))
        p.setFont(self.small)
        p.setPen(QColor(255, 255, 255) if active else QColor(60, 60, 60))
        p.drawText(QRect(x + 10, y, w - 120, TITLE_H), Qt.AlignmentFlag.AlignVCenter, title)
        for i, glyph in enumerate(("—", "□", "×")):
            p.drawText(
                QRect(x + w - 120 + 40 * i, y, 40, TITLE_H), Qt.AlignmentFlag.AlignCenter, glyph
            )
        p.fillRect(x, y + TITLE_H, w, RIBBON_H, QColor(243, 243, 243))
        p.setPen(QColor(40, 40, 40))
        tabs = ["ファイル", "ホーム", "挿入", "レイアウト", "参考資料", "校閲", "表示", "ヘルプ"]
        for i, tab in enumerate(tabs):
            p.drawText(x + 12 + 90 * i, y + TITLE_H + 20, tab)
        for i in range(14):
            p.fillRect(x + 14 + 44 * i, y + TITLE_H + 32, 26, 24, QColor(180, 195, 215))

    def _doc_lines(self, typed: int) -> list[str]:
        """Wrapped lines of the document with ``typed`` characters typed into paragraph 5."""
        paragraphs = list(DOC_PARAGRAPHS)
        paragraphs.insert(6, TYPED_DOC[:typed])
        lines: list[str] = []
        for para in paragraphs:
            lines.extend(self._wrap(para, TEXT_W))
        return lines

    def _wrap(self, text: str, width: int) -> list[str]:
        cache = self.__dict__.setdefault("_wrap_cache", {})
        if text in cache:
            return list(cache[text])
        # Reuse the wrap of the longest cached prefix (typing extends one paragraph).
        out: list[str] = []
        line = ""
        for ch in text:
            if self.metrics.horizontalAdvance(line + ch) > width:
                out.append(line)
                line = ch
            else:
                line += ch
        out.append(line)
        if len(cache) < 4000:
            cache[text] = out
        return list(out)

    def _paint_doc(self, p: QPainter, typed: int, notches: int, caret: bool, active: bool) -> None:
        x, y, w, h = DOC_RECT
        self._frame(p, DOC_RECT, "テレワーク実施要領.docx - Word", active)
        top = y + TITLE_H + RIBBON_H + 30
        lines = self._doc_lines(typed)
        first = max(0, notches * SCROLL_LINES_PER_NOTCH)
        visible = (h - TITLE_H - RIBBON_H - 40) // LINE_H
        # Print layout: a white A4 page on a grey desk, as Word shows it at 100 % zoom.
        content_top = y + TITLE_H + RIBBON_H
        p.fillRect(x, content_top, w, h - TITLE_H - RIBBON_H, QColor(232, 232, 232))
        page_x = x + (w - PAGE_W) // 2
        p.fillRect(
            page_x, content_top + 10, PAGE_W, h - TITLE_H - RIBBON_H - 10, QColor(255, 255, 255)
        )
        p.setFont(self.font)
        p.setPen(QColor(20, 20, 20))
        # The caret sits after the last typed character of the inserted paragraph.
        before = sum(len(self._wrap(para, TEXT_W)) for para in DOC_PARAGRAPHS[:6])
        typed_lines = self._wrap(TYPED_DOC[:typed], TEXT_W)
        caret_line = before + len(typed_lines) - 1
        for i in range(visible):
            idx = first + i
            if idx >= len(lines):
                break
            baseline = top + i * LINE_H + 17
            p.drawText(page_x + PAGE_MARGIN, baseline, lines[idx])
            if caret and idx == caret_line:
                cx = page_x + PAGE_MARGIN + self.metrics.horizontalAdvance(typed_lines[-1])
                p.fillRect(cx, baseline - 15, 1, 19, QColor(0, 0, 0))

    def _paint_sheet(self, p: QPainter, typed: int, caret: bool, active: bool) -> None:
        x, y, w, h = SHEET_RECT
        self._frame(p, SHEET_RECT, "集計表_令和6年度.xlsx - Excel", active)
        top = y + TITLE_H + RIBBON_H
        p.setFont(self.small)
        # Formula bar.
        p.fillRect(x, top, w, 26, QColor(255, 255, 255))
        p.setPen(QColor(200, 200, 200))
        p.drawLine(x, top + 26, x + w, top + 26)
        words = TYPED_SHEET[:typed].split(" ")
        current = words[-1]
        p.setPen(QColor(20, 20, 20))
        p.drawText(x + 60, top + 18, "fx  " + current)
        grid_top = top + 30
        col_w, row_h, head_w = 118, 22, 44
        p.fillRect(x, grid_top, w, row_h, QColor(230, 230, 230))
        p.fillRect(x, grid_top, head_w, h - (grid_top - y), QColor(230, 230, 230))
        rows = (h - (grid_top - y)) // row_h - 1
        cols = (w - head_w) // col_w
        for c in range(cols):
            p.setPen(QColor(60, 60, 60))
            p.drawText(
                QRect(x + head_w + c * col_w, grid_top, col_w, row_h),
                Qt.AlignmentFlag.AlignCenter,
                chr(ord("A") + c),
            )
        done = words[:-1]
        for r in range(rows):
            ry = grid_top + (r + 1) * row_h
            p.setPen(QColor(60, 60, 60))
            p.drawText(QRect(x, ry, head_w, row_h), Qt.AlignmentFlag.AlignCenter, str(r + 1))
            for c in range(cols):
                cx = x + head_w + c * col_w
                text = self._cell(r, c, done)
                if text:
                    p.setPen(QColor(20, 20, 20) if c != 8 else QColor(192, 0, 0))
                    align = (
                        Qt.AlignmentFlag.AlignLeft if c in (0, 9) else Qt.AlignmentFlag.AlignRight
                    )
                    p.drawText(
                        QRect(cx + 4, ry, col_w - 8, row_h),
                        align | Qt.AlignmentFlag.AlignVCenter,
                        text,
                    )
        p.setPen(QColor(218, 218, 218))
        for r in range(rows + 2):
            p.drawLine(x, grid_top + r * row_h, x + w, grid_top + r * row_h)
        for c in range(cols + 1):
            p.drawLine(x + head_w + c * col_w, grid_top, x + head_w + c * col_w, y + h)
        # The cell being edited: a thick frame, its text and a blinking caret.
        n = len(done)
        er, ec = 20 + (n // 6) % 14, 1 + n % 6
        ex, ey = x + head_w + ec * col_w, grid_top + (er + 1) * row_h
        p.setPen(QColor(33, 115, 70))
        p.drawRect(ex, ey, col_w, row_h)
        p.drawRect(ex + 1, ey + 1, col_w - 2, row_h - 2)
        p.fillRect(ex + 2, ey + 2, col_w - 4, row_h - 4, QColor(255, 255, 255))
        p.setPen(QColor(20, 20, 20))
        p.drawText(ex + 6, ey + 16, current)
        if caret:
            cx = ex + 6 + QFontMetrics(self.small).horizontalAdvance(current)
            p.fillRect(cx, ey + 4, 1, row_h - 8, QColor(0, 0, 0))

    def _cell(self, r: int, c: int, typed_words: list[str]) -> str:
        if r == 0:
            return SHEET_HEADERS[c] if c < len(SHEET_HEADERS) else ""
        if c == 0:
            return SHEET_ROWS[(r - 1) % len(SHEET_ROWS)] if r <= 2 * len(SHEET_ROWS) else ""
        if r >= 20:
            # Rows from 21 down are where the typed figures land, six to a row.
            i = (r - 20) * 6 + (c - 1)
            if 1 <= c <= 6 and i < len(typed_words):
                return typed_words[i]
            if r > 20 + len(typed_words) // 6:
                return ""
        if c > 9:
            return ""
        v = (r * 7919 + c * 104729) % 9000 + 500
        if c == 7:
            return f"{v * 6:,}"
        if c == 8:
            return f"{90 + v % 20}.{v % 10}%"
        if c == 9:
            return "見込み" if (r + c) % 5 == 0 else ""
        return f"{v:,}"

    def _paint_taskbar(self, p: QPainter, front: str, minute: int) -> None:
        y = HEIGHT - TASKBAR_H
        p.fillRect(0, y, WIDTH, TASKBAR_H, QColor(32, 32, 32))
        p.fillRect(8, y + 8, 24, 24, QColor(0, 120, 215))
        for i, name in enumerate(("doc", "sheet")):
            color = QColor(43, 87, 154) if name == "doc" else QColor(33, 115, 70)
            p.fillRect(60 + 48 * i, y + 6, 28, 28, color)
            if name == front:
                p.fillRect(60 + 48 * i, y + 36, 28, 3, QColor(120, 180, 255))
        p.setPen(QColor(255, 255, 255))
        p.setFont(self.small)
        hh, mm = divmod(minute % (24 * 60), 60)
        p.drawText(QRect(WIDTH - 120, y, 110, 20), Qt.AlignmentFlag.AlignCenter, f"{hh}:{mm:02d}")
        p.drawText(QRect(WIDTH - 120, y + 19, 110, 20), Qt.AlignmentFlag.AlignCenter, "2024/06/03")
