"""Pages of the admin API's long lists (staff, office PCs, grants).

``?limit=N`` answers at most N rows and ``next``: the ``after`` that asks for the rows following
them, or null once a page comes back short (a full last page is followed by an empty one).
Without ``limit`` a list answers every row, as it always did; a tenant of thousands of office
PCs then takes seconds, pages of a few hundred rows take milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from relay.admin.errors import BadRequest, ErrorCode
from relay.admin.params import Param
from relay.store.inputs import MAX_PAGE_ROWS
from relay.store.schema import MAX_HOST_ID_LEN, MAX_LOGIN_LEN

# Longest ``after`` looked at: a grant's, an office PC's ID and a login.
MAX_CURSOR_LEN = MAX_HOST_ID_LEN + 1 + MAX_LOGIN_LEN

PAGE_PARAMS = (
    Param(
        "limit",
        "integer",
        "a page: at most this many rows, and next, the after of the following page "
        "(null once a page is short); without it, every row",
        1,
        MAX_PAGE_ROWS,
    ),
    Param(
        "after",
        "string",
        "the rows after this one: the next of the page before",
        max_length=MAX_CURSOR_LEN,
    ),
)

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """The page a request asks for: rows after the cursor ``after``, at most ``limit``."""

    after: str | None
    limit: int | None

    @classmethod
    def of(cls, query: dict[str, Any]) -> Page:
        return cls(query.get("after"), query.get("limit"))

    def answer(
        self,
        key: str,
        rows: Sequence[T],
        view: Callable[[T], Any],
        cursor: Callable[[T], str],
    ) -> dict[str, Any]:
        """The list's answer: ``{key: [views]}``, with ``next`` when a page was asked for."""
        out: dict[str, Any] = {key: [view(row) for row in rows]}
        if self.limit is not None:
            out["next"] = cursor(rows[-1]) if rows and len(rows) >= self.limit else None
        return out


def grant_cursor(login: str, host_id: str) -> str:
    """A grant's place in the list, as ``after`` names it: ``HOSTID:login``."""
    return f"{host_id}:{login}"


def parse_grant_cursor(after: str) -> tuple[str, str]:
    """(login, host ID) of a grant's cursor; :class:`BadRequest` if it cannot be one."""
    host_id, colon, login = after.partition(":")
    if not colon or not host_id or not login:
        raise BadRequest(
            "query parameter 'after' must be a grants page's next",
            ErrorCode.FIELD_WRONG_TYPE,
            field="after",
        )
    return login, host_id
