"""Bounds on nested input data, so that whatever is accepted can be stored and read back as JSON."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

MAX_DATA_DEPTH = 64
"""Deepest nesting of dicts and lists accepted in config data and JSON artifact data.

JSON serialization gives up a little past 250 levels (counting the response's own nesting), so data
nested deeper than this would be stored but could never be returned again.
"""

MAX_CONFIG_DATA_BYTES = 1_000_000
"""Largest accepted config `data`, measured as its compact JSON encoding in UTF-8."""

MAX_NAME_LENGTH = 255
"""Longest accepted config name, in characters (PostgreSQL cannot index much longer text)."""

UNENCODABLE_TEXT = "contains text that is not valid Unicode (a lone UTF-16 surrogate)"


class DataBoundsError(ValueError):
    """Input data nests too deeply, is too large or holds unencodable text.

    Raised inside pydantic validators, so the API answers 4xx.
    """


def _scan(value: Any, stop_after: int) -> tuple[int, bool]:
    """Walk `value` without recursion: how deeply containers nest, and whether a string holds a lone surrogate.

    Dict keys are strings too. The walk stops as soon as either answer makes the value unacceptable.
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not is_encodable(item):
                return deepest, True
            continue
        if isinstance(item, dict):
            children: Any = [*item, *item.values()]
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop_after:
                return deepest, False
        pending.extend((child, depth) for child in children)
    return deepest, False


def is_encodable(text: str) -> bool:
    """Whether `text` can be encoded as UTF-8.

    JSON input can spell a lone UTF-16 surrogate as an escape; such text could be stored but never
    returned in a UTF-8 response, so every later read of it would fail.
    """
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def nesting_depth(value: Any, *, stop_after: int = MAX_DATA_DEPTH) -> int:
    """Return how deeply dicts, lists and tuples nest in `value` (a scalar is 0), counting at most `stop_after` + 1.

    Walks without recursion, so arbitrarily deep input cannot exhaust the interpreter's stack; it stops
    as soon as the depth passes `stop_after`.
    """
    return _scan(value, stop_after)[0]


def check_data(value: Any, *, what: str = "data", max_depth: int = MAX_DATA_DEPTH) -> None:
    """Raise `DataBoundsError` when `value` nests deeper than `max_depth` levels or holds unencodable text."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    depth, unencodable = _scan(value, max_depth)
    if unencodable:
        raise DataBoundsError(f"{what} {UNENCODABLE_TEXT}")
    if depth > max_depth:
        raise DataBoundsError(f"{what} nests deeper than {max_depth} levels")


def check_text(text: str, *, what: str = "Text") -> str:
    """Return `text`; raise `DataBoundsError` when it holds a lone surrogate (see `is_encodable`)."""
    if not is_encodable(text):
        raise DataBoundsError(f"{what} {UNENCODABLE_TEXT}")
    return text


def check_json_size(value: Any, *, what: str = "data", max_bytes: int = MAX_CONFIG_DATA_BYTES) -> None:
    """Raise `DataBoundsError` when the compact UTF-8 JSON encoding of `value` is larger than `max_bytes`."""
    if isinstance(value, BaseModel):
        encoded = value.model_dump_json()
    else:
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    size = len(encoded.encode())
    if size > max_bytes:
        raise DataBoundsError(f"{what} is {size} bytes as JSON; at most {max_bytes} are accepted")


__all__ = [
    "MAX_CONFIG_DATA_BYTES",
    "MAX_DATA_DEPTH",
    "MAX_NAME_LENGTH",
    "UNENCODABLE_TEXT",
    "DataBoundsError",
    "check_data",
    "check_json_size",
    "check_text",
    "is_encodable",
    "nesting_depth",
]
