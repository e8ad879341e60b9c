"""Reading JSON request bodies whose frames (`{"columns": [...], "data": [[...], ...]}`) are parsed column by column.

`json.loads` turns a training frame into a list per row and an object per value (several times the
text), and validating it as `PandasDataFrame` copies every row list again. Here the
body's top-level members are read one by one with the standard library's own scanner; a member named
as a frame (`data`, `historic`, `future`) whose value is an object is read row by row, and each row's
values are moved into one list per column at once (repeated strings, such as locations and periods,
are kept once per column). The frame becomes a `PandasDataFrame` held as columns
(`PandasDataFrame.from_columns`), which pydantic accepts as it is.

The result is what `json.loads` would return, but for those frames. Whatever this reader does not
expect is left to the standard parser: a body that is not a JSON object, or not well-formed, is
parsed by `json.loads` (so errors and their positions are the standard ones); a frame that breaks
the frame schema (rows of different lengths, names that are no strings or repeat, a row that is no
list, no columns at all) is parsed as plain JSON, for the schema's validation to name the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from typing import Any

from chapkit.domain.dataframes import PandasDataFrame, numpy_column

FRAME_MEMBERS = frozenset({"data", "historic", "future"})
"""The members of ML request bodies that hold frames."""

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SPACE = frozenset(" \t\n\r")
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The standard library's scanner of one JSON value at an index (what `json.loads` runs; not in the type stubs)."""
_BATCH = 2048
"""Rows read before their values are moved into the column lists."""
_MEMO_LIMIT = 65_536
"""Distinct strings a column keeps once each; past it (ids, free text) the column stops looking."""


class _Unexpected(Exception):
    """The text is not what this reader reads: the standard parser takes over."""


def loads_with_frames(body: bytes | str, frame_members: Collection[str] = FRAME_MEMBERS) -> Any:
    """Parse a JSON body as `json.loads` does, but for the top-level members in `frame_members`: frames held as columns.

    Bytes are decoded as `json.loads` decodes them (UTF-8, -16 or -32, detected). Raises what
    `json.loads` raises for the same body (`json.JSONDecodeError`, `UnicodeDecodeError`,
    `RecursionError`).
    """
    text = body if isinstance(body, str) else body.decode(json.detect_encoding(body), "surrogatepass")
    try:
        return _object_with_frames(text, frozenset(frame_members))
    except (_Unexpected, ValueError, RecursionError, IndexError):
        return json.loads(text)


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _value(text: str, index: int) -> tuple[Any, int]:
    try:
        return _SCAN(text, index)
    except StopIteration:
        raise _Unexpected from None


def _key(text: str, index: int) -> tuple[str, int]:
    """A member's name and the index after its colon (and the whitespace after that)."""
    if text[index : index + 1] != '"':
        raise _Unexpected
    key, index = _value(text, index)
    index = _skip(text, index)
    if text[index : index + 1] != ":":
        raise _Unexpected
    return key, _skip(text, index + 1)


def _after_member(text: str, index: int, closing: str) -> tuple[bool, int]:
    """After a member or element: (True, index of the next one) after a comma, (False, index past `closing`)."""
    index = _skip(text, index)
    mark = text[index : index + 1]
    if mark == ",":
        return True, _skip(text, index + 1)
    if mark == closing:
        return False, index + 1
    raise _Unexpected


def _object_with_frames(text: str, frame_members: frozenset[str]) -> dict[str, Any]:
    index = _skip(text, 0)
    if text[index : index + 1] != "{":
        raise _Unexpected
    index = _skip(text, index + 1)
    result: dict[str, Any] = {}
    more = text[index : index + 1] != "}"
    if not more:
        index += 1
    while more:
        key, index = _key(text, index)
        if key in frame_members and text[index : index + 1] == "{":
            result[key], index = _frame(text, index)
        else:
            result[key], index = _value(text, index)
        more, index = _after_member(text, index, "}")
    if _skip(text, index) != len(text):
        raise _Unexpected  # extra data after the object
    return result


def _frame(text: str, start: int) -> tuple[Any, int]:
    """A frame object at `start`: a `PandasDataFrame` held as columns, or the plain JSON value when it is irregular."""
    index = _skip(text, start + 1)
    members: dict[str, Any] = {}
    columns: _Columns | None = None
    more = text[index : index + 1] != "}"
    if not more:
        index += 1
    while more:
        key, index = _key(text, index)
        if key == "data" and text[index : index + 1] == "[":
            columns, index = _rows(text, index)
            members.pop("data", None)
            if columns is None:
                return _value(text, start)
        else:
            members[key], index = _value(text, index)
            if key == "data":
                columns = None
        more, index = _after_member(text, index, "}")
    names = members.get("columns")
    if "data" in members or columns is None or not _names_fit(names, columns):
        return _value(text, start)
    assert isinstance(names, list)
    values = columns.values if columns.width is not None else [[] for _ in names]
    return PandasDataFrame.from_columns(names, values), index


def _names_fit(names: Any, columns: _Columns) -> bool:
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        return False
    if len(set(names)) != len(names):
        return False
    return len(names) == columns.width or (columns.rows == 0 and columns.width is None)


class _Columns:
    """Rows read so far, column by column: a numpy array while a column holds one kind of number, else a list.

    A column whose values are all floats, all ints (within int64) or all booleans is kept as arrays of
    that type, one per batch (8 bytes a value, where a Python float costs 24 and its list slot 8 more):
    the array pandas would infer for the same values, so `PandasDataFrame.to_dataframe` takes it as it
    is. A batch of another kind turns the column back into a list of the same Python values.
    """

    def __init__(self) -> None:
        self.width: int | None = None
        self.rows = 0
        self._lists: list[list[Any]] = []
        self._chunks: list[list[Any] | None] = []
        self._memos: list[dict[str, str] | None] = []

    @property
    def values(self) -> list[Any]:
        """One list or numpy array of values per column."""
        import numpy as np

        return [
            values if chunks is None else (np.concatenate(chunks) if len(chunks) > 1 else chunks[0])
            for values, chunks in zip(self._lists, self._chunks, strict=True)
        ]

    def add(self, batch: list[list[Any]]) -> bool:
        """Move a batch of rows (lists) into the columns; False when a row's length differs from the first row's."""
        if self.width is None:
            self.width = len(batch[0])
            if not self.width:
                return False
            self._lists = [[] for _ in range(self.width)]
            self._chunks = [[] for _ in range(self.width)]
            self._memos = [{} for _ in range(self.width)]
        lengths = set(map(len, batch))
        if lengths != {self.width}:
            return False
        for position, values in enumerate(zip(*batch, strict=True)):
            kinds = set(map(type, values))
            kind = kinds.pop() if len(kinds) == 1 else None
            if not self._typed(position, values, kind):
                self._lists[position].extend(self._kept_once(position, values, kind))
        self.rows += len(batch)
        return True

    def _typed(self, position: int, values: tuple[Any, ...], kind: type | None) -> bool:
        """Whether the values went into the column's arrays; a column that can no longer be one becomes a list."""
        chunks = self._chunks[position]
        if chunks is None:
            return False
        array = numpy_column(values, kind)
        if array is not None and (not chunks or chunks[0].dtype == array.dtype):  # the first batch's type
            chunks.append(array)
            return True
        self._lists[position] = [value for chunk in chunks for value in chunk.tolist()]
        self._chunks[position] = None
        return False

    def _kept_once(self, position: int, values: tuple[Any, ...], kind: type | None) -> Any:
        """The values; in a batch of strings only, each repeated string is the first equal one the column holds."""
        memo = self._memos[position]
        if memo is None or kind is not str:
            return values
        kept = list(map(memo.setdefault, values, values))
        if len(memo) > _MEMO_LIMIT:
            self._memos[position] = None  # mostly distinct: the memo would cost more than it saves
        return kept


def _rows(text: str, start: int) -> tuple[_Columns | None, int]:
    """The rows of a `data` array at `start`, as columns; None when a row is irregular.

    The loop is the hot path of a large body (one pass per row), so it is written out flat.
    """
    columns = _Columns()
    index = _skip(text, start + 1)
    if text[index] == "]":
        return columns, index + 1
    scan = _SCAN
    batch: list[Any] = []
    append = batch.append
    while True:
        if text[index] != "[":
            return None, index  # a row that is no list: the schema names it
        try:
            row, index = scan(text, index)
        except StopIteration:
            raise _Unexpected from None
        append(row)
        if len(batch) == _BATCH:
            if not columns.add(batch):
                return None, index
            batch.clear()
        mark = text[index]
        if mark in _SPACE:
            index = _skip(text, index)
            mark = text[index]
        if mark == ",":
            index += 1
            if text[index] == " ":  # `json.dumps` writes ", " between rows
                index += 1
            if text[index] in _SPACE:
                index = _skip(text, index)
        elif mark == "]":
            break
        else:
            raise _Unexpected
    if batch and not columns.add(batch):
        return None, index
    return columns, index + 1


__all__ = ["FRAME_MEMBERS", "loads_with_frames"]
