"""The files the relay and the apps keep on disk, and the one way they are written.

A top-level package of its own because both sides need it (the relay its identity and secret
box key, the apps their identities, settings and records) and neither may import the other,
while ``core/`` stays free of I/O: the formats and the logic are in ``core/``, the files here.
"""
