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
"""Largest accepted config `data`, measured as its compact JSON encoding."""


class DataBoundsError(ValueError):
    """Input data nests too deeply or is too large (raised inside pydantic validators, so the API answers 4xx)."""


def nesting_depth(value: Any, *, stop_after: int = MAX_DATA_DEPTH) -> int:
    """Return how deeply dicts, lists and tuples nest in `value` (a scalar is 0), counting at most `stop_after` + 1.

    Walks without recursion, so arbitrarily deep input cannot exhaust the interpreter's stack; it stops
    as soon as the depth passes `stop_after`.
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop_after:
                return deepest
        pending.extend((child, depth) for child in children)
    return deepest


def check_nesting(value: Any, *, what: str = "data", max_depth: int = MAX_DATA_DEPTH) -> None:
    """Raise `DataBoundsError` when `value` nests dicts/lists deeper than `max_depth` levels."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    if nesting_depth(value, stop_after=max_depth) > max_depth:
        raise DataBoundsError(f"{what} nests deeper than {max_depth} levels")


def check_json_size(value: Any, *, what: str = "data", max_bytes: int = MAX_CONFIG_DATA_BYTES) -> None:
    """Raise `DataBoundsError` when the compact JSON encoding of `value` is larger than `max_bytes`."""
    if isinstance(value, BaseModel):
        encoded = value.model_dump_json()
    else:
        encoded = json.dumps(value, separators=(",", ":"), default=str)
    size = len(encoded.encode())
    if size > max_bytes:
        raise DataBoundsError(f"{what} is {size} bytes as JSON; at most {max_bytes} are accepted")


__all__ = [
    "MAX_CONFIG_DATA_BYTES",
    "MAX_DATA_DEPTH",
    "DataBoundsError",
    "check_json_size",
    "check_nesting",
    "nesting_depth",
]
