"""How the console words a failed action: the admin API's error codes (with their params) as
sentences of the console's catalog, its own failures to reach the API, and anything unexpected.

The API's English message never reaches the screen: a code the catalog has no sentence for, or
whose params do not fit it, gets a general translated sentence instead.
"""

from __future__ import annotations

import logging
import math

from apps.admin.api import ApiFailure
from apps.admin.texts import role_name, tr

log = logging.getLogger(__name__)


class InputMissing(Exception):
    """An action the console will not send yet (no row selected, a field half filled); the
    message, already translated, says what the admin must do first."""


class SomeFailed(Exception):
    """An action on several things went ahead for some and failed for others; the message,
    already translated, names each failure."""


def describe_failure(exc: Exception) -> str:
    """What to tell the user about a failed action: the API's refusal in the user's language,
    our own failure to reach it, or, for anything else (a bug, a disk error writing an export),
    the exception, logged with its traceback."""
    if isinstance(exc, InputMissing | SomeFailed):
        return str(exc)
    if isinstance(exc, ApiFailure):
        if exc.status == 0:  # ours, worded already
            return exc.message or tr("cannot_reach")
        return refusal_text(exc)
    log.error("admin console action failed", exc_info=exc)
    return tr("unexpected_error", reason=f"{type(exc).__name__}: {exc}")


def refusal_text(failure: ApiFailure) -> str:
    """The sentence for the API's error code, its params filled in."""
    key = f"api_error_{failure.code}"
    if failure.code and tr.knows(key):
        try:
            # Formatted here, not by tr: it leaves a sentence alone when given no values.
            return tr(key).format(**_values(failure.params))
        except (KeyError, IndexError, ValueError):  # a sentence this API version does not fill
            pass
    return tr("api_error_unknown", status=failure.status)


def _values(params: dict[str, object]) -> dict[str, object]:
    """The params as the sentences show them: field names translated, numbers without a
    needless ".0", a lockout's wait in whole minutes."""
    values: dict[str, object] = {}
    for name, value in params.items():
        if name == "field":
            label = f"api_field_{value}"
            values[name] = tr(label) if tr.knows(label) else f"'{value}'"
        elif name == "role":
            values[name] = role_name(str(value))
        elif isinstance(value, float) and value.is_integer():
            values[name] = int(value)
        else:
            values[name] = value
    retry = params.get("retry_after_s")
    if isinstance(retry, int | float):
        values["minutes"] = max(1, math.ceil(retry / 60))
    return values
