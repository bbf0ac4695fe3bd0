"""Parsing and checking the parts of an admin API request that are not its JSON body: query
parameters, path segments and the bearer token (bodies are checked by :mod:`schema`).

Anything malformed is a :class:`BadRequest` naming the parameter, raised before anything has
changed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from core.crypto.certs import parse_host_id
from core.errors import CryptoError
from relay.admin.auth import MAX_TOKEN_TEXT
from relay.admin.errors import BadRequest, ErrorCode

MAX_SESSION_ID_LEN = 64


@dataclass(frozen=True)
class Param:
    """One query parameter a route accepts, as parsed here and described in the OpenAPI."""

    name: str
    kind: str  # "string", "number", "integer", "date", "boolean"
    description: str
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 256
    choices: tuple[str, ...] = ()


def parse_query(params: tuple[Param, ...], query: Any) -> dict[str, Any]:
    """The query parameters of ``query`` that ``params`` names, parsed; empty ones are left out."""
    out: dict[str, Any] = {}
    known = {p.name for p in params}
    unknown = sorted(set(query) - known)
    if unknown:
        raise BadRequest(
            f"unknown query parameters: {', '.join(unknown)[:200]}",
            ErrorCode.FIELD_NOT_ALLOWED,
            field=unknown[0][:64],
        )
    for param in params:
        raw = query.get(param.name)
        if raw is None or raw == "":
            continue
        out[param.name] = _parse_param(param, raw)
    return out


def _parse_param(param: Param, raw: str) -> Any:
    where = f"query parameter '{param.name}'"
    field = param.name
    if len(raw) > param.max_length:
        raise BadRequest(
            f"{where} is longer than {param.max_length} characters",
            ErrorCode.FIELD_TOO_LONG,
            field=field,
            max_length=param.max_length,
        )
    if param.choices and raw not in param.choices:
        choices = ", ".join(param.choices)
        raise BadRequest(
            f"{where} must be one of {choices}",
            ErrorCode.FIELD_NOT_A_CHOICE,
            field=field,
            choices=choices,
        )
    if param.kind == "string":
        return raw
    if param.kind == "boolean":
        if raw not in ("true", "false"):
            raise BadRequest(
                f"{where} must be true or false", ErrorCode.FIELD_WRONG_TYPE, field=field
            )
        return raw == "true"
    if param.kind == "date":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise BadRequest(
                f"{where} must be a date as YYYY-MM-DD", ErrorCode.FIELD_WRONG_TYPE, field=field
            ) from None
    try:
        value: float = int(raw) if param.kind == "integer" else float(raw)
    except ValueError:
        raise BadRequest(
            f"{where} must be a {param.kind}", ErrorCode.FIELD_WRONG_TYPE, field=field
        ) from None
    if not math.isfinite(value):
        raise BadRequest(f"{where} must be finite", ErrorCode.FIELD_WRONG_TYPE, field=field)
    if param.minimum is not None and value < param.minimum:
        raise BadRequest(
            f"{where} must be at least {param.minimum:g}",
            ErrorCode.FIELD_TOO_SMALL,
            field=field,
            minimum=param.minimum,
        )
    if param.maximum is not None and value > param.maximum:
        raise BadRequest(
            f"{where} must be at most {param.maximum:g}",
            ErrorCode.FIELD_TOO_LARGE,
            field=field,
            maximum=param.maximum,
        )
    return value


def host_id(text: str) -> str:
    """The bare host ID of ``text`` as records keep it; the grouped display form is accepted."""
    try:
        return parse_host_id(text)
    except CryptoError as exc:
        raise BadRequest(str(exc), ErrorCode.BAD_HOST_ID) from None


def registration_id(text: str) -> int:
    """A home-PC registration's ID from its path segment."""
    # A registration ID is a database row number: 18 digits stay inside a signed 64-bit integer.
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise BadRequest("registration ID must be a whole number", ErrorCode.BAD_REGISTRATION_ID)
    return int(text)


def session_id(text: str) -> str:
    """A live session's ID from its path segment (only its length is checked: it is looked up)."""
    if len(text) > MAX_SESSION_ID_LEN:
        raise BadRequest(
            f"a session ID is at most {MAX_SESSION_ID_LEN} characters",
            ErrorCode.FIELD_TOO_LONG,
            field="session_id",
            max_length=MAX_SESSION_ID_LEN,
        )
    return text


def bearer_token(request: web.Request) -> str:
    """The request's bearer token, or "" if it has none or one too long to be ours."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_TEXT:
        return ""
    return token.strip()
