"""Screen media for the host and the viewer: capture, change detection, H.264, rate, cursor.

Sans-I/O and Qt-free: the apps pass frames, clocks and receiver reports in, and take packets and
decoded pixels out. See ``docs/media.md`` for the design and the measured figures.
"""
