"""Frames: `PandasDataFrame` (a DataFrame as JSON), and pandas imported where a frame is made or read.

pandas (with numpy and, when installed, pyarrow) is most of a started service's memory, and a service
that has not trained or predicted yet holds no frame. So chapkit's modules name `pd.DataFrame` in
annotations only (imported under `TYPE_CHECKING`), import pandas inside the functions that build or
read frames, and ask `is_dataframe` instead of `isinstance(value, pd.DataFrame)`.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, Self, cast

from pydantic import BaseModel, Field, PrivateAttr, model_serializer, model_validator

if TYPE_CHECKING:
    import pandas as pd


def is_dataframe(value: object) -> bool:
    """Whether `value` is a pandas DataFrame, without importing pandas.

    A DataFrame can only exist once pandas has been imported, so when it has not, nothing is one.
    """
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


class PandasDataFrame(BaseModel):
    """Pydantic schema for serializing pandas DataFrames.

    `data` holds one list per row, each with one value per column (a row of another length is refused,
    as are repeated column names). Missing values (NaN, None, NaT) and infinities become `null`, which
    JSON can carry; `to_dataframe()` reads `null` in a numeric column back as NaN.
    """

    # (The docstring is the schema's description in the API documents.) A frame read from a request
    # body is held column by column (`from_columns`): one list (or numpy array) per column, no list per
    # row. Its `data` rows are built only when something asks for them (reading `data`, dumping the
    # model); `row_count`, `column_values` and `to_dataframe()` never build them.

    columns: list[str] = Field(json_schema_extra={"uniqueItems": True})
    data: list[list[Any]]

    _column_lists: list[Any] | None = PrivateAttr(default=None)
    _rows_in_columns: int = PrivateAttr(default=0)

    @model_validator(mode="after")
    def rows_fit_columns(self) -> Self:
        """Refuse rows whose length differs from the number of columns, and repeated column names."""
        if self._column_lists is not None:
            return self  # checked by `from_columns` (pydantic runs this again on instances it is given)
        width = len(self.columns)
        for index, row in enumerate(self.data):
            if len(row) != width:
                raise ValueError(_row_width_problem(index, len(row), width))
        repeated = _repeated_names(self.columns)
        if repeated:
            raise ValueError(f"column names must be unique (repeated: {', '.join(repeated)})")
        return self

    @classmethod
    def from_columns(cls, columns: list[str], values: list[Any]) -> Self:
        """A frame held as one list of values per column (equally long, unique names); the lists are kept, not copied.

        A column may also be a one-dimensional numpy array of float64, int64 or bool: it stands for the
        list of its Python values (`tolist()`), and `to_dataframe()` takes it as it is.

        `ValueError` when the columns and lists do not fit together. Frames without columns are held
        as rows (`PandasDataFrame(columns=[], data=...)`): only rows can say how many there are.
        """
        if not columns or len(values) != len(columns):
            raise ValueError(f"{len(values)} column lists for {len(columns)} columns")
        repeated = _repeated_names(columns)
        if repeated:
            raise ValueError(f"column names must be unique (repeated: {', '.join(repeated)})")
        rows = len(values[0])
        if any(len(column) != rows for column in values):
            raise ValueError("every column list must hold one value per row")
        frame = cast("Self", cls.model_construct(columns=list(columns)))  # type: ignore[call-arg]  # no rows: on demand
        frame._column_lists = values
        frame._rows_in_columns = rows
        return frame

    @classmethod
    def from_dataframe(cls, df: pd.DataFrame) -> Self:
        """Create schema from pandas DataFrame (missing values and infinities as None)."""
        if not is_dataframe(df):
            raise TypeError(f"Expected a pandas DataFrame, but got {type(df)}")
        if df.columns.has_duplicates:
            raise ValueError("column names must be unique to be carried as a PandasDataFrame")
        # Built without validation: the rows fit the columns by construction (a frame of 100,000 rows).
        return cast("Self", cls.model_construct(columns=[str(name) for name in df.columns], data=_rows_of(df)))

    def is_rectangular(self) -> bool:
        """Whether every row has one value per column (a frame held as columns always has; its rows are not built)."""
        if self._column_lists is not None:
            return True
        width = len(self.columns)
        return all(len(row) == width for row in self.data)

    @property
    def row_count(self) -> int:
        """How many rows the frame has (without building them)."""
        if self._column_lists is not None:
            return self._rows_in_columns
        return len(self.data)

    def column_values(self, column: str) -> list[Any]:
        """The values of one column, top to bottom (`ValueError` for an unknown column); do not change the list."""
        return self._column(self.columns.index(column))

    def _column(self, position: int) -> list[Any]:
        if self._column_lists is not None:
            return _as_list(self._column_lists[position])
        return [row[position] for row in self.data]

    def to_dataframe(self) -> pd.DataFrame:
        """Convert schema back to pandas DataFrame."""
        import pandas as pd

        if self._column_lists is None:
            return pd.DataFrame(self.data, columns=self.columns)
        if self._rows_in_columns == 0:
            return pd.DataFrame([], columns=self.columns)  # the dtypes rows would give an empty frame
        # Column by column, pandas infers each column's dtype as it does from rows (tested). A column of
        # floats only, ints only or booleans only is handed over as the numpy array pandas would make of
        # it: most of the cost of a small frame is pandas inferring each list's type. The names are the
        # dict's keys, unique, in order, so the frame needs no `columns=` (a reindex).
        arrays = list(map(_column_array, self._column_lists))
        if _one_numpy_type(arrays):
            # The one block pandas would consolidate the columns into, built at once, under names read
            # once per set of names: a small numeric frame cost several times this in per-column checks
            # and in reading the names' type.
            import numpy as np

            # Stacked as pandas holds a block (a row per column), and given to the frame as it is: pandas
            # copies an array it is given unless told not to, and this one is the frame's alone.
            block = np.stack(arrays)
            return pd.DataFrame(block.T, columns=_column_index(tuple(self.columns)).copy(), copy=False)
        return pd.DataFrame(dict(zip(self.columns, arrays, strict=True)))

    def __eq__(self, other: object) -> bool:
        """Frames are equal when their columns and rows are, however each is held."""
        if not isinstance(other, PandasDataFrame):
            return NotImplemented
        if self.columns != other.columns or self.row_count != other.row_count:
            return False
        if self._column_lists is None and other._column_lists is None:
            return self.data == other.data
        return all(
            _same_values(self._column(position), other._column(position)) for position in range(len(self.columns))
        )

    # At run time only: mypy keeps checking attribute names, and pydantic keeps the model's own
    # serialization schema (an annotated wrap serializer would replace it with a plain object).
    if not TYPE_CHECKING:

        def __getattr__(self, name):
            if name == "data" and self.__pydantic_private__ and self._column_lists is not None:
                rows = self._rows_from_columns()
                self.__dict__["data"] = rows  # read once, kept: `data` is the same list on every read
                return rows
            return super().__getattr__(name)

        @model_serializer(mode="wrap")
        def _rows_out(self, handler):
            if "data" in self.__dict__ or self._column_lists is None:
                return handler(self)
            self.__dict__["data"] = self._rows_from_columns()  # for this dump only
            try:
                return handler(self)
            finally:
                del self.__dict__["data"]

    def _rows_from_columns(self) -> list[list[Any]]:
        assert self._column_lists is not None
        return [list(row) for row in zip(*map(_as_list, self._column_lists), strict=True)]


_SMALL_FRAME = 20_000
"""Values in a frame below which `_rows_of` reads it as one object array whatever its column types."""


def _rows_of(df: pd.DataFrame) -> list[list[Any]]:
    """The frame's rows as lists of Python values, missing values and the infinities of number columns as None.

    The values of `df.to_numpy(dtype=object, na_value=None)` once every `inf`/`-inf` of a float or
    complex column is masked. Read in runs of adjacent columns: a run of float64, int64 or bool columns
    (a forecast's samples, a model's numbers) as one array of that type, whose `tolist()` makes the same
    Python values without an object array of the run (NaN and infinities read as None); a run of any
    other columns as the object array reads it. The runs' rows are joined side by side. A small frame of
    several runs is read as one object array.
    """
    import numpy as np

    fast = {np.dtype(np.float64): "float", np.dtype(np.int64): "int", np.dtype(np.bool_): "bool"}
    dtypes = list(df.dtypes)
    runs: list[tuple[Any, list[int]]] = []
    for position, dtype in enumerate(dtypes):
        kind = fast.get(dtype) if isinstance(dtype, np.dtype) else None  # (numpy takes None for float64)
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(position)
        else:
            runs.append((kind, [position]))
    if len(runs) > 1 and df.size < _SMALL_FRAME:  # slicing costs more than it saves
        runs = [(None, list(range(df.shape[1])))]
    pieces: list[list[list[Any]]] = []
    for kind, positions in runs:
        part = df.iloc[:, positions[0] : positions[-1] + 1] if len(runs) > 1 else df  # a run is adjacent columns
        if kind is None:
            rows = part.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[arg-type]
            numbers = [index for index, position in enumerate(positions) if dtypes[position].kind in "fc"]
            if numbers:
                _mask_infinities(rows, numbers)
            pieces.append(rows)
            continue
        values = part.to_numpy()  # one numpy type: that type
        rows = values.tolist()
        if kind == "float":
            for row, column in zip(*np.nonzero(~np.isfinite(values)), strict=True):
                rows[row][column] = None
        pieces.append(rows)
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return [[] for _ in range(len(df))]
    return [list(chain.from_iterable(parts)) for parts in zip(*pieces, strict=True)]


def _mask_infinities(rows: list[list[Any]], columns: list[int]) -> None:
    """Set to None each value of `columns` (float or complex columns) that equals `inf` or `-inf`."""
    for row in rows:
        for column in columns:
            value = row[column]
            if value == math.inf or value == -math.inf:
                row[column] = None


def _one_numpy_type(arrays: list[Any]) -> bool:
    """Whether every column is a numpy array of one and the same type (`_column_array` made them all)."""
    import numpy as np

    first = arrays[0]
    return isinstance(first, np.ndarray) and all(
        isinstance(array, np.ndarray) and array.dtype == first.dtype for array in arrays
    )


@functools.lru_cache(maxsize=64)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    """The column index pandas makes of `names`, made once per set of names (frames get a copy of it).

    Reading the type of text labels is most of a small frame's construction. A frame gets its own
    (shallow) copy, so setting its `columns.name` leaves other frames alone.
    """
    import pandas as pd

    return pd.Index(list(names))


_NUMPY_TYPES: dict[type | None, str] = {float: "float64", int: "int64", bool: "bool"}
"""The numpy type pandas infers for a column of only these Python values."""


def numpy_column(values: Sequence[Any], kind: type | None) -> Any:
    """The numpy array pandas infers for `values`, all of Python type `kind`; None when pandas keeps them otherwise.

    Floats, ints within int64 and booleans have one (float64, int64, bool); any other kind, and an int
    beyond int64 (pandas keeps such a column as objects), has none.
    """
    numpy_type = _NUMPY_TYPES.get(kind)
    if numpy_type is None:
        return None
    import numpy as np

    try:
        return np.array(values, dtype=numpy_type)
    except OverflowError:
        return None


def _column_array(values: Any) -> Any:
    """A column's values as the numpy array pandas infers for them when they are all floats, ints or booleans.

    Anything else (strings, missing values, mixed types, ints beyond int64) is left to pandas as the list.
    """
    if not isinstance(values, list):
        return values  # an array already (`from_columns`)
    kinds = set(map(type, values))
    array = numpy_column(values, kinds.pop()) if len(kinds) == 1 else None
    return values if array is None else array


def _as_list(values: Any) -> list[Any]:
    """A column held by `from_columns` as a list of its values (a numpy array's Python values)."""
    return values if isinstance(values, list) else values.tolist()


def _same_values(first: list[Any], second: list[Any]) -> bool:
    """Whether two columns hold equal values, a NaN equal to a NaN (an array's NaN is not the parser's NaN object)."""
    return first == second or (
        len(first) == len(second)
        and all(one == other or (one != one and other != other) for one, other in zip(first, second, strict=True))
    )


def _row_width_problem(index: int, length: int, width: int) -> str:
    """How a frame's row of the wrong length is refused."""
    return f"row {index} has {length} values for {width} columns"


def _repeated_names(columns: list[str]) -> list[str]:
    """The column names that occur more than once, sorted."""
    if len(set(columns)) == len(columns):
        return []
    return sorted({name for name in columns if columns.count(name) > 1})


__all__ = ["PandasDataFrame", "is_dataframe", "numpy_column"]
