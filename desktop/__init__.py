"""The office PC's OS adapters, which the host agent drives: screen capture, cursor reading and
input injection (each module talks to the display server; the logic they serve is in ``core/``).
"""
