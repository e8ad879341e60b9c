"""Small helpers for routers and endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from starlette.convertors import CONVERTOR_TYPES, Convertor, register_url_convertor
from ulid import ULID

from chapkit.domain.errors import InvalidULIDError
from chapkit.domain.ids import ULID_JSON_SCHEMA, to_ulid


def build_location_url(request: Request, path: str) -> str:
    """Build a full URL for the Location header."""
    return f"{request.url.scheme}://{request.url.netloc}{path}"


UlidPath = Annotated[
    str,
    Path(
        description="ULID (26 characters of Crockford base32); anything else is a 400 invalid-ulid problem",
        json_schema_extra=ULID_JSON_SCHEMA,
    ),
]
"""A path id documented as a ULID but checked by `parse_ulid`, so a bad one is a 400 problem, not a 422."""


class EntityIdConvertor(Convertor[str]):
    """Path segments that can be ids: anything but `$operation` names, which belong to other routes.

    With it, `DELETE /jobs/$schema` is a 405 (only GET is declared there) instead of an attempt to
    delete a job whose id is `$schema`.
    """

    regex = r"[^/$][^/]*"

    def convert(self, value: str) -> str:
        """Keep the segment as text; `parse_ulid` checks it."""
        return value

    def to_string(self, value: str) -> str:
        """Render the segment unchanged."""
        return value


ENTITY_ID_CONVERTOR = "chapkit_id"


def id_path(name: str) -> str:
    """`/{name}` with the id convertor (registered on first use)."""
    if ENTITY_ID_CONVERTOR not in CONVERTOR_TYPES:
        register_url_convertor(ENTITY_ID_CONVERTOR, EntityIdConvertor())
    return f"/{{{name}:{ENTITY_ID_CONVERTOR}}}"


def parse_ulid(value: str, *, instance: str | None = None) -> ULID:
    """Parse a path id, or raise the 400 `invalid-ulid` problem."""
    try:
        return to_ulid(value)
    except ValueError as error:
        raise InvalidULIDError(f"Invalid ULID format: {value}", instance=instance) from error


__all__ = [
    "ENTITY_ID_CONVERTOR",
    "EntityIdConvertor",
    "UlidPath",
    "build_location_url",
    "id_path",
    "parse_ulid",
]
