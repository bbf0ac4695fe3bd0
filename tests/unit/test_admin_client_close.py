"""Closing the console's connection to the admin API: the one race CPython's SSL transport raises
on (both ends closing at once) is not a failure; any other error still is."""

from __future__ import annotations

import pytest

from apps.admin.api import AdminClient

FINGERPRINT = "ab" * 32


class ClosingSession:
    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.closed = False

    async def close(self) -> None:
        self.closed = True
        raise self.error


async def test_both_ends_closing_at_once_is_a_clean_close():
    client = AdminClient("https://127.0.0.1:1", FINGERPRINT)
    await client._http.close()
    session = ClosingSession(RuntimeError("cannot switch state from UNWRAPPED to SHUTDOWN."))
    client._http = session  # type: ignore[assignment]
    await client.close()
    assert session.closed


async def test_any_other_error_on_close_is_raised():
    client = AdminClient("https://127.0.0.1:1", FINGERPRINT)
    await client._http.close()
    client._http = ClosingSession(RuntimeError("event loop is closed"))  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="event loop is closed"):
        await client.close()
