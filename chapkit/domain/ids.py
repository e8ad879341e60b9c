"""`ULIDValue`: a ULID field that accepts only a ULID or its 26-character text, and documents that."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
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

ULIDOut = Annotated[ULID, WithJsonSchema(ULID_JSON_SCHEMA)]
"""Use in response schemas: python-ulid's own validation and text, documented as every other id."""

ULIDText = Annotated[str, WithJsonSchema(ULID_JSON_SCHEMA)]
"""A ULID the reference types as text (`job_id: str` in ML responses), documented as every other id."""

__all__ = ["ULID_JSON_SCHEMA", "ULID_PATTERN", "ULIDOut", "ULIDText", "ULIDValue", "stored_ulid", "to_ulid"]
