"""Screen media for the host and the viewer, free of I/O: frame geometry, change detection,
H.264, rate control and the cursor channel.

Qt-free and OS-free: the apps pass frames (grabbed by :mod:`desktop`), clocks and receiver
reports in, and take packets and decoded pixels out. See ``docs/media.md`` for the design and
the measured figures.
"""
