"""The "office PC" desktop for the end-to-end tests and the latency benchmark: a Tk window.

Run as ``python office_window.py EVENTS_FILE``. It covers the whole (1280x800) screen and shows:

- four coloured corner markers and a centre marker, which the tests find in the viewer's
  picture to learn where (and how scaled) the office PC's screen appears there;
- a click target that turns cyan when clicked;
- a text field that has the keyboard focus;
- a "pointer patch" whose colour follows the pointer's x position (left half: yellow, right
  half: purple), which the latency benchmark watches in the viewer.

Every event is one JSON line in EVENTS_FILE: ``ready``, ``key`` (keysym, char), ``text``
(the field's content after a key), ``click`` (button, x, y, inside the target), ``paste`` (what
this display's clipboard held when Ctrl+V arrived, or null) and ``patch`` (its new colour, and
when: ``time.monotonic()``, CLOCK_MONOTONIC, which every process on the machine shares).
"""

from __future__ import annotations

import json
import sys
import time
import tkinter

SCREEN_W, SCREEN_H = 1280, 800
BACKGROUND = "#f4f4f4"
MARKERS = {  # name: (x, y, size, colour) - all saturated, far from each other and from grey
    "top_left": (40, 40, 120, "#e02020"),
    "top_right": (1120, 40, 120, "#20b040"),
    "bottom_left": (40, 640, 120, "#2040e0"),
    "bottom_right": (1120, 640, 120, "#e020e0"),
    "centre": (590, 250, 100, "#f0a000"),
}
CLICK_TARGET = (240, 60, 300, 150)  # x, y, w, h
CLICK_TARGET_IDLE, CLICK_TARGET_HIT = "#808080", "#00d0d0"
TEXT_FIELD = (240, 400)  # where the entry sits
POINTER_PATCH = (760, 420, 300, 180)  # x, y, w, h
PATCH_LEFT, PATCH_RIGHT = "#f0f000", "#6000a0"  # pointer in the left / right half of the screen


def patch_colour(x: int) -> str:
    return PATCH_LEFT if x < SCREEN_W // 2 else PATCH_RIGHT


def main(events_path: str) -> None:
    out = open(events_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with Tk

    def record(**event: object) -> None:
        out.write(json.dumps(event, ensure_ascii=False) + "\n")

    root = tkinter.Tk()
    root.geometry(f"{SCREEN_W}x{SCREEN_H}+0+0")
    root.overrideredirect(True)  # no window manager here: place it ourselves
    canvas = tkinter.Canvas(
        root, width=SCREEN_W, height=SCREEN_H, highlightthickness=0, bg=BACKGROUND
    )
    canvas.place(x=0, y=0)
    for x, y, size, colour in MARKERS.values():
        canvas.create_rectangle(x, y, x + size, y + size, fill=colour, width=0)
    tx, ty, tw, th = CLICK_TARGET
    target = canvas.create_rectangle(tx, ty, tx + tw, ty + th, fill=CLICK_TARGET_IDLE, width=0)
    px, py, pw, ph = POINTER_PATCH
    patch = canvas.create_rectangle(px, py, px + pw, py + ph, fill=PATCH_LEFT, width=0)
    state = {"patch": PATCH_LEFT}

    entry = tkinter.Entry(root, width=28, font=("TkFixedFont", 22))
    entry.place(x=TEXT_FIELD[0], y=TEXT_FIELD[1])

    def on_key(event: tkinter.Event) -> None:
        record(event="key", keysym=event.keysym, char=event.char)
        root.after_idle(lambda: record(event="text", value=entry.get()))

    def on_click(event: tkinter.Event) -> None:
        x, y = event.x_root, event.y_root
        inside = tx <= x < tx + tw and ty <= y < ty + th
        if inside:
            canvas.itemconfigure(target, fill=CLICK_TARGET_HIT)
        record(event="click", button=event.num, x=x, y=y, inside=inside)
        entry.focus_set()  # the field keeps the keyboard, as a user's editor would

    def on_paste(_event: tkinter.Event) -> None:
        try:
            held: str | None = root.clipboard_get()
        except tkinter.TclError:  # nothing on this display's clipboard
            held = None
        record(event="paste", clipboard=held)

    def on_motion(event: tkinter.Event) -> None:
        colour = patch_colour(event.x_root)
        if colour != state["patch"]:
            state["patch"] = colour
            canvas.itemconfigure(patch, fill=colour)
            record(event="patch", colour=colour, x=event.x_root, t=time.monotonic())

    root.bind_all("<KeyPress>", on_key, add="+")
    root.bind_all("<ButtonPress>", on_click, add="+")
    root.bind_all("<Motion>", on_motion, add="+")
    entry.bind("<<Paste>>", on_paste, add="+")

    def ready() -> None:
        root.focus_force()
        entry.focus_force()
        record(event="ready")

    root.after(200, ready)
    root.mainloop()


if __name__ == "__main__":
    main(sys.argv[1])
