"""`ULIDField`: a ULID field whose every wrong input is a validation error (so the API answers 4xx)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator
from ulid import ULID

_ULID_INT_LIMIT = 1 << 128


def _reject_what_ulid_cannot_parse(value: Any) -> Any:
    """Let through what python-ulid parses itself; refuse the rest with a `ValueError`.

    python-ulid raises `TypeError`/`OverflowError` for lists, dicts, floats and out-of-range integers,
    which pydantic does not turn into validation errors: a request body with `"id": [1]` would be a 500.
    """
    if value is None or isinstance(value, ULID | str | bytes):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _ULID_INT_LIMIT:
        return value
    raise ValueError("Input should be a ULID string")


ULIDField = Annotated[ULID, BeforeValidator(_reject_what_ulid_cannot_parse)]
"""A ULID in an input schema: ULID strings (and ULIDs) are accepted, anything unparseable is a validation error."""

__all__ = ["ULIDField"]
