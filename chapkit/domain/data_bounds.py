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
NUL_TEXT = "contains a NUL character (\\u0000), which cannot be stored"


class DataBoundsError(ValueError):
    """Input data nests too deeply, is too large or holds text that cannot be stored.

    Raised inside pydantic validators, so the API answers 4xx.
    """


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored (`UNENCODABLE_TEXT` or `NUL_TEXT`), or None when it can.

    PostgreSQL refuses NUL in text and JSON; a lone surrogate can be stored elsewhere but never
    returned in a UTF-8 response. Refusing both everywhere keeps every storage the same.
    """
    if "\x00" in text:
        return NUL_TEXT
    if not is_encodable(text):
        return UNENCODABLE_TEXT
    return None


def _scan(value: Any, stop_after: int) -> tuple[int, str | None, int]:
    """Walk `value` without recursion: nesting depth, the first text problem, and a lower bound of its JSON size.

    Dict keys are strings too. The walk stops as soon as the depth or a text problem makes the value
    unacceptable. Only containers are queued (scalars are looked at in place), so the walk holds no
    more than one entry per container. The size bound counts one byte per scalar and separator plus
    the characters of every string (its compact JSON encoding is at least that long).
    """
    deepest = 0
    size = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = [*item, *item.values()]
        elif isinstance(item, list | tuple):
            children = item
        else:
            problem, length = _scalar(item)
            if problem is not None:
                return deepest, problem, size
            size += length
            continue
        depth += 1
        size += max(2, 1 + len(children))  # brackets, and separators: a comma or colon between children
        if depth > deepest:
            deepest = depth
            if deepest > stop_after:
                return deepest, None, size
        for child in children:
            if isinstance(child, dict | list | tuple):
                pending.append((child, depth))
                continue
            problem, length = _scalar(child)
            if problem is not None:
                return deepest, problem, size
            size += length
    return deepest, None, size


def _scalar(item: Any) -> tuple[str | None, int]:
    if isinstance(item, str):
        return text_problem(item), len(item) + 2
    return None, 1


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


def check_data(
    value: Any, *, what: str = "data", max_depth: int = MAX_DATA_DEPTH, max_bytes: int | None = None
) -> None:
    """Raise `DataBoundsError` when `value` nests deeper than `max_depth` levels or holds text that cannot be stored.

    With `max_bytes`, also when its JSON encoding is certainly longer than that (`check_json_size`
    then measures exactly what this cheaper bound lets through).
    """
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    depth, problem, size = _scan(value, max_depth)
    if problem is not None:
        raise DataBoundsError(f"{what} {problem}")
    if depth > max_depth:
        raise DataBoundsError(f"{what} nests deeper than {max_depth} levels")
    if max_bytes is not None and size > max_bytes:
        raise DataBoundsError(f"{what} is more than {max_bytes} bytes as JSON; at most {max_bytes} are accepted")


def check_text(text: str, *, what: str = "Text") -> str:
    """Return `text`; raise `DataBoundsError` when it cannot be stored (a NUL or a lone surrogate: `text_problem`)."""
    problem = text_problem(text)
    if problem is not None:
        raise DataBoundsError(f"{what} {problem}")
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
    "NUL_TEXT",
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
    "text_problem",
]
