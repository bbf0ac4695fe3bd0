"""The console's client of the admin API: aiohttp over TLS 1.3, the relay's certificate pinned
by its SHA-256 fingerprint. Refusals come back as :class:`ApiFailure` with the API's error code
and params (which :mod:`apps.admin.failures` words), and so does every failure of ours to reach
it (bad URL or fingerprint, TLS, timeout), already translated."""

from __future__ import annotations

import logging
import ssl
import urllib.parse
from collections.abc import Buffer
from typing import Any

import aiohttp
from yarl import URL

from apps.admin.texts import tr
from core.admin_api import API_PREFIX
from core.crypto.certs import parse_fingerprint
from core.crypto.tls import check_pin, pinned_client_context
from core.errors import CryptoError, PinMismatch

log = logging.getLogger(__name__)
# What CPython 3.12's SSL transport raises when a connection is closed just as its peer closes
# it (its state machine is already UNWRAPPED): the connection is gone either way.
_SSL_CLOSE_RACE = "cannot switch state from UNWRAPPED to SHUTDOWN"

# Seconds before a request is given up (the console stays responsive meanwhile).
REQUEST_TIMEOUT_S = 30.0


class ApiFailure(Exception):
    """The API refused (``status`` is its HTTP status, ``code`` and ``params`` its error's, the
    message its English one) or could not be reached (``status`` 0, the message translated)."""

    def __init__(
        self, status: int, message: str, code: str = "", params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.params = params or {}


def segment(value: object) -> str:
    """``value`` (a login, a host ID...) as one percent-encoded path segment.

    Every reserved character is encoded, so data cannot address another resource: unencoded,
    ``/staff/a#b`` would be ``/staff/a`` (the rest a fragment), and ``/`` or ``?`` would move
    the path. Dots too, since URL normalisation drops ``.`` and ``..`` segments. The relay
    (aiohttp) decodes the segment back in ``match_info``."""
    return urllib.parse.quote(str(value), safe="").replace(".", "%2E")


def tenant_path(tenant: str, *parts: object) -> str:
    """``/api/v1/tenants/<tenant>/<part>/...``, the tenant and every part one segment each."""
    return "/".join([f"{API_PREFIX}/tenants", *(segment(part) for part in (tenant, *parts))])


def base_url(text: str) -> str:
    """The admin API's ``https://host:port`` as typed, checked: nothing but HTTPS, since the
    password and the bearer token travel on it (aiohttp would send ``http://`` in clear)."""
    try:
        url = URL(text.strip())
    except (TypeError, ValueError):
        url = None
    if url is None or url.scheme != "https" or not url.host or url.query_string or url.fragment:
        raise ApiFailure(0, tr("bad_url", url=text))
    return str(url).rstrip("/")


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
        """:class:`ApiFailure` if the URL or the fingerprint is not usable."""
        self.url = base_url(url)
        try:
            context = relay_context(fingerprint)
        except CryptoError as exc:
            raise ApiFailure(0, tr("bad_fingerprint")) from exc
        # The relay's pin, which office PCs check too (the relay and its admin API share one
        # certificate): the console puts it in the enrolment codes it makes.
        self.fingerprint = parse_fingerprint(fingerprint)
        self.timeout_s = REQUEST_TIMEOUT_S  # read here, not at import: tests scale it
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context),
            timeout=aiohttp.ClientTimeout(total=self.timeout_s),
        )
        self.token = ""
        self.session: dict[str, Any] = {}

    async def close(self) -> None:
        try:
            await self._http.close()
        except RuntimeError as error:
            if _SSL_CLOSE_RACE not in str(error):
                raise
            log.debug("connection closed by both ends at once: %s", error)

    async def sign_in(self, login: str, password: str, otp: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.call(
            "POST", f"{API_PREFIX}/login", {"login": login, "password": password, "otp": otp}
        )
        self.token = answer.pop("token")
        self.session = answer
        return answer

    async def sign_out(self) -> None:
        if self.token:
            await self.call("POST", f"{API_PREFIX}/logout")
            self.token = ""

    async def change_password(self, current: str, new: str) -> dict[str, Any]:
        """Change the signed-in admin's password; their other sign-ins end, this one stays."""
        answer: dict[str, Any] = await self.call(
            "POST",
            f"{API_PREFIX}/password",
            {"current_password": current, "new_password": new},
        )
        return answer

    async def call(
        self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        params = {k: str(v) for k, v in (query or {}).items() if v not in (None, "")}
        # Already encoded (see segment): yarl must neither re-encode nor normalise it.
        url = URL(self.url + path, encoded=True)
        try:
            async with self._http.request(
                method, url, json=body, headers=headers, params=params
            ) as response:
                if response.content_type == "application/json":
                    data = await response.json()
                else:
                    data = await response.text()
                if response.status >= 400:
                    raise _refusal(response.status, data)
                return data
        except TimeoutError as exc:  # aiohttp's total timeout is not a ClientError
            raise ApiFailure(0, tr("timed_out", seconds=f"{self.timeout_s:g}")) from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise ApiFailure(0, tr("pin_refused")) from exc
        except aiohttp.ClientConnectorSSLError as exc:
            raise ApiFailure(0, tr("not_tls13")) from exc
        except aiohttp.ClientError as exc:
            raise ApiFailure(0, tr("cannot_reach_because", reason=type(exc).__name__)) from exc


def _refusal(status: int, data: Any) -> ApiFailure:
    """The API's error body as an :class:`ApiFailure`; a body not the API's (a proxy's page)
    has no code, and is then told as an unknown refusal with its status."""
    if not isinstance(data, dict):
        return ApiFailure(status, str(data))
    params = data.get("params")
    return ApiFailure(
        status,
        str(data.get("error", "")),
        str(data.get("code", "")),
        params if isinstance(params, dict) else {},
    )
