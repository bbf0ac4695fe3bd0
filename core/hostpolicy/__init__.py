"""The host agent's decisions, free of I/O loops: MAC whitelist, whom to accept, when to end a
session, when to shut the office PC down, how long to wait before reconnecting.

Every function that depends on time takes the time as an argument (or a clock callable), so
tests simulate hours and days without sleeping.
"""
