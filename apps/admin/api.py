"""The console's client of the admin API: aiohttp over TLS 1.3, the relay's certificate pinned
by its SHA-256 fingerprint. Refusals come back as :class:`ApiFailure` with the API's message."""

from __future__ import annotations

import urllib.parse
from typing import Any

import aiohttp

from core.crypto.certs import parse_fingerprint

API = "/api/v1"
# Seconds before a request is given up (the console stays responsive meanwhile).
REQUEST_TIMEOUT_S = 30.0


class ApiFailure(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AdminClient:
    def __init__(self, url: str, fingerprint: str) -> None:
        self.url = url.rstrip("/")
        pin = aiohttp.Fingerprint(bytes.fromhex(parse_fingerprint(fingerprint)))
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=pin),
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
        except aiohttp.ClientError as exc:
            raise ApiFailure(0, type(exc).__name__) from exc

    def tenant_path(self, tenant: str, rest: str = "") -> str:
        return f"{API}/tenants/{urllib.parse.quote(tenant, safe='')}{rest}"
