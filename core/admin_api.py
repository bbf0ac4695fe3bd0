"""What the relay's admin API and its clients (the console, ``telework-ctl``) agree on: its path
prefix, which carries the API's version."""

from __future__ import annotations

API_PREFIX = "/api/v1"
