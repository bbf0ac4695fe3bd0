"""The office PC's decisions, sans I/O: which home PCs are registered, whom to accept, when to end
a session, when to shut the PC down, how long to wait before reconnecting.

Every function that depends on time takes the time as an argument (or a clock callable), so
tests simulate hours and days without sleeping; the registered-MAC file is
:mod:`apps.host.mac_list`'s.
"""
