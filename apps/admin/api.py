"""The console's client of the admin API: aiohttp over TLS 1.3, the relay's certificate pinned
by its SHA-256 fingerprint. Refusals come back as :class:`ApiFailure` with the API's message."""

from __future__ import annotations

import ssl
import urllib.parse
from collections.abc import Buffer
from typing import Any

import aiohttp

from apps.admin.texts import tr
from core.crypto.certs import parse_fingerprint
from core.crypto.tls import check_pin, pinned_client_context
from core.errors import PinMismatch

API = "/api/v1"
# Seconds before a request is given up (the console stays responsive meanwhile).
REQUEST_TIMEOUT_S = 30.0


class ApiFailure(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def relay_context(fingerprint: str) -> ssl.SSLContext:
    """A TLS 1.3-only client context that checks the relay's pin inside the handshake.

    Not ``aiohttp.Fingerprint``: with it aiohttp picks its own default context, which accepts
    TLS 1.2, and it cannot be combined with our context through aiohttp's public API. The pin
    check rides on :attr:`ssl.SSLContext.sslobject_class` (documented stdlib) instead, so it
    runs as the handshake completes, before aiohttp can send a request byte."""
    expected = parse_fingerprint(fingerprint)

    class PinnedSSLObject(ssl.SSLObject):
        _pin_checked = False

        def do_handshake(self) -> None:
            super().do_handshake()
            try:
                check_pin(self, expected)
            except PinMismatch as exc:
                # An ssl error, because asyncio turns only those into a failed handshake
                # (aiohttp then raises ClientConnectorCertificateError); anything else would
                # escape from the event loop's transport callback instead.
                raise ssl.SSLCertVerificationError(str(exc)) from exc
            self._pin_checked = True

        def write(self, data: Buffer) -> int:
            # OpenSSL would run the handshake implicitly on a first write: refuse, so that no
            # request byte (the bearer token) can leave before the pin check, whatever the
            # event loop does.
            if not self._pin_checked:
                raise ssl.SSLError("refusing to write before the relay's pin is checked")
            return super().write(data)

    context = pinned_client_context()
    context.sslobject_class = PinnedSSLObject
    return context


class AdminClient:
    def __init__(self, url: str, fingerprint: str) -> None:
        self.url = url.rstrip("/")
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=relay_context(fingerprint)),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )
        self.token = ""
        self.session: dict[str, Any] = {}

    async def close(self) -> None:
        await self._http.close()

    async def sign_in(self, login: str, password: str, otp: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.call(
            "POST", f"{API}/login", {"login": login, "password": password, "otp": otp}
        )
        self.token = answer.pop("token")
        self.session = answer
        return answer

    async def sign_out(self) -> None:
        if self.token:
            await self.call("POST", f"{API}/logout")
            self.token = ""

    async def call(
        self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        params = {k: str(v) for k, v in (query or {}).items() if v not in (None, "")}
        try:
            async with self._http.request(
                method, self.url + path, json=body, headers=headers, params=params
            ) as response:
                if response.content_type == "application/json":
                    data = await response.json()
                else:
                    data = await response.text()
                if response.status >= 400:
                    message = data.get("error") if isinstance(data, dict) else str(data)
                    raise ApiFailure(response.status, str(message))
                return data
        except aiohttp.ClientConnectorCertificateError as exc:
            raise ApiFailure(0, tr("pin_refused")) from exc
        except aiohttp.ClientConnectorSSLError as exc:
            raise ApiFailure(0, tr("not_tls13")) from exc
        except aiohttp.ClientError as exc:
            raise ApiFailure(0, tr("cannot_reach_because", reason=type(exc).__name__)) from exc

    def tenant_path(self, tenant: str, rest: str = "") -> str:
        return f"{API}/tenants/{urllib.parse.quote(tenant, safe='')}{rest}"
