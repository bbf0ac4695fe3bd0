"""A small checker for the JSON request bodies the admin API accepts.

The same schemas go into the OpenAPI description, so what the description promises is what
the server checks. Only the keywords used here are supported: ``type`` (one or a list),
``properties``, ``required``, ``additionalProperties: false``, ``minLength``/``maxLength``,
``minimum``/``maximum``, ``enum`` (of strings).
"""

from __future__ import annotations

from typing import Any

from relay.admin.errors import BadRequest, ErrorCode

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def check(value: Any, schema: dict[str, Any], where: str = "body", field: str = "") -> None:
    """:class:`BadRequest` naming the first place ``value`` breaks ``schema`` (``field``: the
    property being checked, "" for the body itself)."""
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            raise BadRequest(
                f"{where} must be {' or '.join(kinds)}", ErrorCode.FIELD_WRONG_TYPE, field=field
            )
    if isinstance(value, str):
        if "enum" in schema and value not in schema["enum"]:
            choices = ", ".join(schema["enum"])
            raise BadRequest(
                f"{where} must be one of {choices}",
                ErrorCode.FIELD_NOT_A_CHOICE,
                field=field,
                choices=choices,
            )
        if len(value) < schema.get("minLength", 0):
            raise BadRequest(f"{where} must not be empty", ErrorCode.FIELD_EMPTY, field=field)
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise BadRequest(
                f"{where} is longer than {schema['maxLength']} characters",
                ErrorCode.FIELD_TOO_LONG,
                field=field,
                max_length=schema["maxLength"],
            )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise BadRequest(
                f"{where} must be at least {schema['minimum']}",
                ErrorCode.FIELD_TOO_SMALL,
                field=field,
                minimum=schema["minimum"],
            )
        if "maximum" in schema and value > schema["maximum"]:
            raise BadRequest(
                f"{where} must be at most {schema['maximum']}",
                ErrorCode.FIELD_TOO_LARGE,
                field=field,
                maximum=schema["maximum"],
            )
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                raise BadRequest(f"{where} needs '{name}'", ErrorCode.FIELD_MISSING, field=name)
        if schema.get("additionalProperties") is False:
            unknown = sorted(set(value) - set(properties))
            if unknown:
                raise BadRequest(
                    f"{where} has unknown fields: {', '.join(unknown)[:200]}",
                    ErrorCode.FIELD_NOT_ALLOWED,
                    field=unknown[0][:64],
                )
        for name, sub in properties.items():
            if name in value:
                check(value[name], sub, f"'{name}'", name)


def obj(required: tuple[str, ...] = (), **properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema with exactly these properties."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def choice(choices: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(choices)}


def integer(minimum: int, maximum: int, nullable: bool = False) -> dict[str, Any]:
    return {
        "type": ["integer", "null"] if nullable else "integer",
        "minimum": minimum,
        "maximum": maximum,
    }
