"""Column types: ULIDs as 26-character strings and timezone-aware UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator
from ulid import ULID

from chapkit.domain.errors import InvalidULIDError


def parse_ulid(value: ULID | str) -> ULID:
    """Return `value` as a ULID; a string that is not a ULID raises `InvalidULIDError`."""
    if isinstance(value, ULID):
        return value
    try:
        return ULID.from_str(value)
    except (ValueError, TypeError) as exc:
        raise InvalidULIDError(f"Invalid ULID format: {value!r}") from exc


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
    """Parse a ULID read from the database: several times faster than `ULID.from_str` for canonical strings.

    Tree reads turn thousands of ids into ULIDs; anything but a canonical (upper-case) ULID takes the
    general path.
    """
    try:
        return _StoredULID(int(value.translate(_TO_BASE32), 32).to_bytes(16, "big"), value)
    except (ValueError, OverflowError):
        return ULID.from_str(value)


class ULIDType(TypeDecorator[ULID]):
    """SQLAlchemy custom type for ULID stored as 26-character strings."""

    impl = String(26)
    cache_ok = True

    def process_bind_param(self, value: ULID | str | None, dialect: Any) -> str | None:
        """Convert ULID to string for database storage (strings are validated and normalized)."""
        if value is None:
            return None
        return str(parse_ulid(value))

    def process_result_value(self, value: str | None, dialect: Any) -> ULID | None:
        """Convert string from database to ULID object."""
        if value is None:
            return None
        return stored_ulid(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store aware values converted to UTC; naive values are taken to be UTC already."""
        if value is None or value.tzinfo is None:
            return value
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """On SQLite, parse the stored text with `datetime.fromisoformat` (C) instead of a regular expression.

        Large reads (artifact trees) spent a third of their time parsing timestamps the generic way.
        """
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        generic = super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if isinstance(value, str):
                try:
                    # Stored without an offset (UTC); parsing it with one is several times cheaper than `replace`.
                    return datetime.fromisoformat(value + "+00:00")
                except ValueError:
                    pass
            return generic(value) if generic is not None else self.process_result_value(value, dialect)

        return process

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return the value as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__ = ["ULIDType", "UTCDateTime", "parse_ulid", "stored_ulid"]
