"""The admin API's aiohttp application and its TLS 1.3 listener.

The middleware turns every refusal into ``{"error": "...", "code": "...", "params": {...}}``
with a 4xx status (the store's and policy model's errors included, under a code per kind), and
anything unexpected into a bare 500 whose details go only to the relay's log.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web

from core.crypto.certs import Identity
from core.crypto.tls import server_context
from core.errors import CryptoError
from core.policy import PolicyError
from relay.admin import schema
from relay.admin.auth import Role
from relay.admin.call import Call, Csv, Encoded, Streamed
from relay.admin.errors import ApiError, BadRequest, ErrorCode, Forbidden, ParamValue
from relay.admin.monitor import MONITOR_INTERVAL_S
from relay.admin.openapi import openapi
from relay.admin.params import bearer_token, parse_query
from relay.admin.routes import ROUTES, Route
from relay.admin.service import AdminService
from relay.server import RelayServer
from relay.store.errors import AlreadyExists, InvalidInput, LastOperator, NotFound

log = logging.getLogger("telework.admin")

# Largest request body: policies and names are small; this stops memory abuse early.
MAX_REQUEST_BYTES = 64 * 1024
# The default admin listen address: loopback only, as the console normally runs on the relay
# host or through an SSH tunnel; open it wider on purpose with --admin-listen.
DEFAULT_ADMIN_LISTEN = "127.0.0.1:8444"

# The store's and the policy model's refusals: their status and code (their messages are
# English only, so a client translates the code alone).
_STORE_STATUS: tuple[tuple[type[Exception], int, ErrorCode], ...] = (
    (InvalidInput, 400, ErrorCode.INVALID_INPUT),
    (PolicyError, 400, ErrorCode.INVALID_POLICY),
    (CryptoError, 400, ErrorCode.INVALID_INPUT),
    (NotFound, 404, ErrorCode.NOT_FOUND),
    (LastOperator, 409, ErrorCode.LAST_OPERATOR),
    (AlreadyExists, 409, ErrorCode.ALREADY_EXISTS),
)
# aiohttp's own refusals (no route, wrong method, body too large) by status.
_HTTP_CODES = {
    404: ErrorCode.NO_SUCH_ROUTE,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.BODY_TOO_LARGE,
}


def _error(
    status: int,
    message: str,
    code: ErrorCode,
    params: dict[str, ParamValue] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": message, "code": code.value, "params": params or {}}
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        retry = None if exc.retry_after_s is None else {"Retry-After": str(exc.retry_after_s)}
        return _error(exc.status, exc.message, exc.code, exc.params, retry)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = exc.headers.get("Allow")
        code = _HTTP_CODES.get(exc.status, ErrorCode.HTTP_ERROR)
        return _error(
            exc.status,
            exc.reason,
            code,
            {"status": exc.status},
            {"Allow": allow} if allow else None,
        )
    except tuple(e for e, _, _ in _STORE_STATUS) as exc:
        status, code = next((s, c) for kind, s, c in _STORE_STATUS if isinstance(exc, kind))
        return _error(status, str(exc)[:500], code)
    except Exception:
        # The path as sent (percent-encoded): decoded, a %0A in it would forge a log line.
        log.exception("admin API error on %s %s", request.method, request.raw_path)
        return _error(500, "internal error", ErrorCode.INTERNAL_ERROR)


async def _read_body(request: web.Request, route: Route) -> Any:
    if route.body is None:
        return None
    raw = await request.read()
    if not raw:
        if route.body.get("required"):
            raise BadRequest("a JSON body is required", ErrorCode.BODY_REQUIRED)
        body: Any = {}
    else:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("the body is not valid JSON", ErrorCode.BODY_NOT_JSON) from None
        except RecursionError:  # the parser's own bound on nesting; no body of ours is deep
            raise BadRequest("the body is nested too deeply", ErrorCode.BODY_TOO_DEEP) from None
    schema.check(body, route.body)
    return body


def _handler(
    route: Route, service: AdminService
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        token, who = "", None
        if route.auth:
            token = bearer_token(request)
            who = await service.sessions.check(token)
            service.permit(who, route.roles)
        tenant = ""
        if "tenant" in request.match_info:
            assert who is not None
            tenant = await service.tenant(who, request.match_info["tenant"])
        query = parse_query(route.query, request.query)
        body = await _read_body(request, route)
        call = Call(request, service, who, token, tenant, body, query)
        result = await route.handler(call)
        if isinstance(result, Csv):
            return web.Response(
                body=result.body,
                content_type="text/csv",
                charset="utf-8",
                headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
            )
        if isinstance(result, Streamed):
            return await _stream(request, service, result)
        if isinstance(result, Encoded):
            return web.Response(body=result.body, status=route.ok, content_type="application/json")
        if route.ok == 204:
            return web.Response(status=204)
        return web.json_response(result, status=route.ok)

    handle.__name__ = route.handler.__name__
    return handle


async def _stream(
    request: web.Request, service: AdminService, answer: Streamed
) -> web.StreamResponse:
    """Send ``answer`` a part at a time, each made in its report's thread. A refusal or error
    before the first part is answered as usual; one after it cuts the connection, so the client
    sees an unfinished answer, never a short one that looks whole."""
    async with service.backend.reports.job(answer.tenant) as job:
        part = await job.call(partial(next, answer.parts, b""))
        response = web.StreamResponse(headers={"Content-Type": answer.content_type})
        if answer.filename is not None:
            response.headers["Content-Disposition"] = f'attachment; filename="{answer.filename}"'
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            while part:
                await response.write(part)
                part = await job.call(partial(next, answer.parts, b""))
            await response.write_eof()
        except ConnectionResetError:  # the client left: the report's place is freed below
            pass
        except Exception:
            log.exception("admin API report cut on %s %s", request.method, request.path)
            if request.transport is not None:
                request.transport.abort()
        return response


def build_app(service: AdminService) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=MAX_REQUEST_BYTES)
    description = openapi()

    async def spec(_request: web.Request) -> web.Response:
        return web.json_response(description)

    app.router.add_get("/openapi.json", spec)
    service.operations = {
        role: frozenset(r.handler.__name__ for r in ROUTES if r.auth and role in r.roles)
        for role in Role
    }
    for route in ROUTES:
        app.router.add_route(route.method, route.path, _handler(route, service))
    return app


@dataclass
class AdminApi:
    """A running admin API: its service and where it listens."""

    service: AdminService
    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.service.close()


async def start_admin_api(
    server: RelayServer,
    identity: Identity,
    host: str,
    port: int,
    *,
    clock: Callable[[], float] = time.time,
    monitor_interval_s: float = MONITOR_INTERVAL_S,
    token_ttl_s: float | None = None,
) -> AdminApi:
    """Start the admin API for ``server`` (built with :func:`relay.admin.hooks.admin_hooks`) on
    ``host:port`` (0: any free port), TLS 1.3 with the relay's own certificate."""
    service = AdminService(server, clock, monitor_interval_s, token_ttl_s)
    await service.start()
    runner = web.AppRunner(build_app(service), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=server_context(identity))
    await site.start()
    bound = runner.addresses[0]
    return AdminApi(service, runner, str(bound[0]), int(bound[1]))


__all__ = ["DEFAULT_ADMIN_LISTEN", "AdminApi", "Forbidden", "build_app", "start_admin_api"]
