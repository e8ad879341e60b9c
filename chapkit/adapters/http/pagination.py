"""Opt-in pagination: query parameters and the `PaginatedResponse` builder."""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from starlette.datastructures import QueryParams

from chapkit.domain.schemas import PaginatedResponse

T = TypeVar("T")

MAX_PAGE_SIZE = 100
"""Largest `size` a client may ask for."""

MAX_PAGE = 2**53
"""Largest `page`: keeps the row offset inside a 64-bit integer (and exact in JSON) on every backend."""

PageQuery = Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="Page number (1-indexed)")]
SizeQuery = Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE, description="Number of items per page (max 100)")]


_PLAIN_INTEGER = re.compile(r"[1-9][0-9]{0,15}")
"""A positive integer written plainly (no sign, space, zero in front or underscore), at most 16 digits."""


class _NotPlain(Exception):
    """A query parameter FastAPI's handler must read (and may refuse)."""


def _plain(query: QueryParams, name: str, high: int) -> int | None:
    """`name`'s value: None when absent, the integer when it is one plain integer from 1 to `high`."""
    values = query.getlist(name)
    if not values:
        return None
    if len(values) != 1 or _PLAIN_INTEGER.fullmatch(values[0]) is None or int(values[0]) > high:
        raise _NotPlain(name)
    return int(values[0])


def plain_page_and_size(query: QueryParams) -> tuple[int | None, int | None] | None:
    """`page` and `size` as `PageQuery` and `SizeQuery` read them, where that is plain; else None.

    Each is absent or one plain in-range integer; anything else (a refusal, or a spelling FastAPI reads
    its own way) is None, for FastAPI's handler to read and answer.
    """
    try:
        return _plain(query, "page", MAX_PAGE), _plain(query, "size", MAX_PAGE_SIZE)
    except _NotPlain:
        return None


class PaginationParams(BaseModel):
    """Query parameters for opt-in pagination (both page and size required)."""

    page: int | None = Field(default=None, ge=1, le=MAX_PAGE, description="Page number (1-indexed)")
    size: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE, description="Number of items per page (max 100)")

    def is_paginated(self) -> bool:
        """Check if both page and size parameters are provided."""
        return self.page is not None and self.size is not None


def create_paginated_response(items: list[T], total: int, page: int, size: int) -> PaginatedResponse[T]:
    """Create paginated response with items and metadata."""
    return PaginatedResponse(items=items, total=total, page=page, size=size)


__all__ = [
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "PageQuery",
    "PaginationParams",
    "SizeQuery",
    "create_paginated_response",
    "plain_page_and_size",
]
