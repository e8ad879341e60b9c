"""`ULIDValue`: a ULID field that accepts only a ULID or its 26-character text, and documents that."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetPydanticSchema, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import CoreSchema, core_schema
from ulid import ULID

ULID_PATTERN = "^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
"""Canonical ULID text: Crockford base32, upper case, 128 bits."""

_ULID_TEXT = re.compile(ULID_PATTERN)


def to_ulid(value: Any) -> ULID:
    """Return `value` as a ULID; anything but a ULID or canonical ULID text raises `ValueError`.

    python-ulid's own pydantic validator lets a `TypeError` escape for other JSON values (objects,
    lists, floats), which pydantic does not turn into a validation error: a 500 instead of a 422.
    """
    if isinstance(value, ULID):
        return value
    if isinstance(value, str) and _ULID_TEXT.match(value):
        return ULID.from_str(value)
    raise ValueError("must be a ULID: 26 characters of Crockford base32")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Crockford digits to the digits of int(..., 32); every other letter to a character int() refuses.
_TO_BASE32 = str.maketrans(
    _CROCKFORD + "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in _CROCKFORD),
    "0123456789abcdefghijklmnopqrstuv" + "!" * (52 - 22),
)


class _StoredULID(ULID):
    """A ULID read from the database that keeps its canonical text, so encoding it again costs nothing.

    Responses encode every id back to text; `ULID.__str__` re-encodes the bytes each time, which is
    most of the cost of returning a large artifact tree. Equality, hashing and ordering are ULID's.
    """

    def __init__(self, value: bytes, text: str) -> None:
        super().__init__(value)
        self._text = text

    def __str__(self) -> str:
        return self._text


def stored_ulid(value: str) -> ULID:
    """Parse a stored ULID's text: several times faster than `ULID.from_str` for canonical strings.

    Tree reads turn thousands of ids into ULIDs; anything but a canonical (upper-case) ULID takes the
    general path.
    """
    try:
        return _StoredULID(int(value.translate(_TO_BASE32), 32).to_bytes(16, "big"), value)
    except (ValueError, OverflowError):
        return ULID.from_str(value)


ULID_JSON_SCHEMA: dict[str, Any] = {"type": "string", "pattern": ULID_PATTERN, "minLength": 26, "maxLength": 26}
"""The one way the OpenAPI document describes an id: request fields, response fields and path parameters."""

ULIDValue = Annotated[
    ULID,
    PlainValidator(to_ulid),
    PlainSerializer(str, return_type=str, when_used="json-unless-none"),
    WithJsonSchema(ULID_JSON_SCHEMA),
]
"""Use in schemas read from requests: `id: ULIDValue | None = None`."""


def _read_ulid(value: Any) -> ULID:
    """What python-ulid reads as a ULID (its text, 16 bytes, an int); `ValueError` for anything else.

    python-ulid's own validator raises a `TypeError` for other types, which pydantic does not make a
    validation error.
    """
    if isinstance(value, str):
        return ULID.from_str(value)
    if isinstance(value, bytes):
        return ULID.from_bytes(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return ULID.from_int(value)
    raise ValueError("not a ULID")


def _instance_first(source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
    """A ULID instance is taken as it is, without a Python call; anything else is read by `_read_ulid`."""
    return core_schema.union_schema(
        [core_schema.is_instance_schema(ULID), core_schema.no_info_plain_validator_function(_read_ulid)],
        custom_error_type="ulid_format",
        custom_error_message="Input should be a ULID: 26 characters of Crockford base32, 16 bytes or an int",
        serialization=core_schema.to_string_ser_schema(when_used="json-unless-none"),
    )


ULIDOut = Annotated[ULID, GetPydanticSchema(_instance_first), WithJsonSchema(ULID_JSON_SCHEMA)]
"""Use in response schemas: a ULID, or what python-ulid reads as one; its text in JSON, documented as every other id.

Responses are built from stored entities, whose ids are ULIDs already: those pass without a Python
call (python-ulid's own validator made one per id, 50 for a page of 50 configs)."""

ULIDText = Annotated[str, WithJsonSchema(ULID_JSON_SCHEMA)]
"""A ULID the reference types as text (`job_id: str` in ML responses), documented as every other id."""

__all__ = ["ULID_JSON_SCHEMA", "ULID_PATTERN", "ULIDOut", "ULIDText", "ULIDValue", "stored_ulid", "to_ulid"]
