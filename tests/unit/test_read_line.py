"""apps.common.xvfb.read_line: start-up waits on a child's output never block past their limit."""

from __future__ import annotations

import os

from apps.common.xvfb import read_line


def test_a_line_is_read_whole_however_it_arrives():
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"4")
        os.write(write_end, b"2\nrest")
        assert read_line(read_end, 5.0) == "42\nrest"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_silent_writer_gives_what_came_by_the_deadline():
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"partial")
        assert read_line(read_end, 0.05) == "partial"  # the writer is alive but says no more
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_closed_writer_ends_the_wait():
    read_end, write_end = os.pipe()
    os.close(write_end)
    try:
        assert read_line(read_end, 5.0) == ""
    finally:
        os.close(read_end)
