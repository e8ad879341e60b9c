"""Opt-in pagination: query parameters and the `PaginatedResponse` builder."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from chapkit.domain.schemas import PaginatedResponse

T = TypeVar("T")

MAX_PAGE_SIZE = 100
"""Largest `size` a client may ask for."""

MAX_PAGE = 2**53
"""Largest `page`: keeps the row offset inside a 64-bit integer (and exact in JSON) on every backend."""

PageQuery = Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="Page number (1-indexed)")]
SizeQuery = Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE, description="Number of items per page (max 100)")]


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


__all__ = ["MAX_PAGE", "MAX_PAGE_SIZE", "PageQuery", "PaginationParams", "SizeQuery", "create_paginated_response"]
