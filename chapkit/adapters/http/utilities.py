"""Small helpers for routers and endpoints."""

from __future__ import annotations

from fastapi import Request
from ulid import ULID

from chapkit.domain.errors import InvalidULIDError


def build_location_url(request: Request, path: str) -> str:
    """Build a full URL for the Location header."""
    return f"{request.url.scheme}://{request.url.netloc}{path}"


def parse_ulid(value: str, *, instance: str | None = None) -> ULID:
    """Parse a path id, or raise the 400 `invalid-ulid` problem."""
    try:
        return ULID.from_str(value)
    except ValueError as error:
        raise InvalidULIDError(f"Invalid ULID format: {value}", instance=instance) from error


__all__ = ["build_location_url", "parse_ulid"]
