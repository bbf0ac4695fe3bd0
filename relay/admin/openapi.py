"""The OpenAPI 3.1 description of the admin API, generated from :data:`routes.ROUTES`."""

from __future__ import annotations

import re
from typing import Any

from relay.admin.auth import Role
from relay.admin.errors import ErrorCode
from relay.admin.params import Param
from relay.admin.routes import ROUTES, Route

_PATH_PARAM = re.compile(r"\{(\w+)\}")
_ERROR = {"$ref": "#/components/schemas/Error"}
_STATUS_TEXT = {
    400: "bad input (nothing was changed)",
    401: "not signed in, or the token expired",
    403: "this role may not do this",
    404: "no such object in this tenant",
    409: "already exists, or it would leave no enabled operator",
    413: "request body too large",
}


def _param_schema(param: Param) -> dict[str, Any]:
    if param.kind == "date":
        return {"type": "string", "format": "date"}
    schema: dict[str, Any] = {"type": param.kind}
    if param.kind == "string":
        schema["maxLength"] = param.max_length
    if param.choices:
        schema["enum"] = list(param.choices)
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    return schema


def _operation(route: Route) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
        }
        for name in _PATH_PARAM.findall(route.path)
    ]
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": p.description,
            "schema": _param_schema(p),
        }
        for p in route.query
    ]
    if route.ok == 204:
        ok: dict[str, Any] = {"description": "done"}
    else:
        content: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
        if route.csv:
            content["text/csv"] = {"schema": {"type": "string"}}
        ok = {"description": "done", "content": content}
    responses: dict[str, Any] = {str(route.ok): ok}
    statuses = {400, 413} if route.body is not None else {400}
    if route.auth:
        statuses |= {401, 403, 404, 409}
    else:
        statuses |= {401}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": _ERROR}},
        }
    for status, text in route.responses.items():
        responses[str(status)] = {
            "description": text,
            "content": {"application/json": {"schema": _ERROR}},
        }
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{route.handler.__name__}",
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if route.body is not None:
        operation["requestBody"] = {
            "required": route.ok != 201 or bool(route.body.get("required")),
            "content": {"application/json": {"schema": route.body}},
        }
    if not route.auth:
        operation["security"] = []
    else:
        # Who may call it (any other role: 403), as the route table says.
        roles = [role.value for role in Role if role in route.roles]
        operation["description"] = f"Roles: {', '.join(roles)}."
        operation["x-roles"] = roles
    return operation


def openapi() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telework relay admin API",
            "version": "1",
            "description": "Staff OTPs, office PCs, home PCs, policies, live sessions, "
            "bandwidth, usage and audit, per tenant. Errors are "
            '{"error": "<English message>", "code": "<stable code>", "params": {...}}: '
            "clients translate the code, filling in the params (field names, bounds).",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string", "description": "for people and scripts"},
                        "code": {"type": "string", "enum": [code.value for code in ErrorCode]},
                        "params": {
                            "type": "object",
                            "description": "what the code's sentence names: field, "
                            "minimum, maximum, max_length, choices, retry_after_s, status",
                            "additionalProperties": {"type": ["string", "number"]},
                        },
                    },
                    "required": ["error", "code", "params"],
                }
            },
        },
        "security": [{"bearer": []}],
    }
