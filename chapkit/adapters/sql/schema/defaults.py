"""Chapkit's column defaults, and how a new row gets them just before its INSERT is built.

A mapped object whose primary key or defaulted columns are unset makes the ORM's flush take its
slow path for the row: it runs the Python defaults inside the statement's execution, and builds a
`return_defaults()` variant of the INSERT (a new statement, so a new cache key) to bring the values
back onto the object. An object that holds every such value is inserted with the cached statement
as it is.

So every mapped class of chapkit's registry (`Base`'s subclasses, users' `Entity` models among them,
and the domain classes mapped onto chapkit's tables) has a `before_insert` listener,
`fill_insert_defaults`. It runs in the flush, before the flush reads the row's values, and sets the
values the same defaults would have given the row, for the defaults whose value does not depend on
the statement's execution:

- a constant (`default=0`);
- chapkit's own callables: `ULID` (a new id), `utc_now` (the time), and `same_as_created_at` (the
  value just given to `created_at`, so a new row's two timestamps are equal).

Any other default (a users' callable, an SQL expression, a server default alone) is left to the
statement, as before. An attribute the object already holds (`None` counts as unset, as the ORM's
insert treats it) is never changed. The values appear when the flush runs, as they did before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapper
from ulid import ULID


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC (timestamps keep microseconds, D8)."""
    return datetime.now(UTC)


def same_as_created_at(context: DefaultExecutionContext) -> Any:
    """Default for `updated_at` on insert: the row's `created_at`, so a new row has equal timestamps."""
    return _created_at_or_now(context.get_current_parameters())  # type: ignore[no-untyped-call]


def _created_at_or_now(values: dict[str, Any]) -> Any:
    """`same_as_created_at` of a row whose values so far are `values`."""
    return values.get("created_at") or utc_now()


_Filler = tuple[str, Callable[[dict[str, Any]], Any]]

_CALLABLES: dict[Any, Callable[[dict[str, Any]], Any]] = {
    ULID: lambda values: ULID(),
    utc_now: lambda values: utc_now(),
    same_as_created_at: _created_at_or_now,
}
"""Chapkit's default callables, each as what it gives a row whose values so far are `values`."""


def _constant(value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda values: value


def _filler(column: Any) -> Callable[[dict[str, Any]], Any] | None:
    """How a new row gets `column`'s default before its INSERT, or None where only the statement can give it."""
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return _constant(default.arg)
    if default.is_callable:
        return _CALLABLES.get(getattr(default.arg, "__wrapped__", default.arg))
    return None


@cache
def _fillers(mapper: Mapper[Any]) -> tuple[_Filler, ...]:
    """Per mapper, once: the (attribute, values of the row so far -> default) pairs, `updated_at`'s last."""
    found: list[_Filler] = []
    for attr in mapper.column_attrs:
        if len(attr.columns) == 1 and (fill := _filler(attr.columns[0])) is not None:
            found.append((attr.key, fill))
    # `same_as_created_at` reads the row's `created_at`: it goes after every other default.
    found.sort(key=lambda filler: filler[1] is _CALLABLES[same_as_created_at])
    return tuple(found)


def fill_insert_defaults(mapper: Mapper[Any], _connection: Any, target: object) -> None:
    """`before_insert`: give the new object the defaults its INSERT would give it, where they do not depend on it."""
    fillers = _fillers(mapper)
    if not fillers:
        return
    values = vars(target)
    for key, fill in fillers:
        if values.get(key) is None:
            setattr(target, key, fill(values))


def fill_defaults_before_insert(target: type) -> None:
    """Listen with `fill_insert_defaults` on `target`'s mapper and, for a declarative base, its subclasses'."""
    event.listen(target, "before_insert", fill_insert_defaults, propagate=True)


__all__ = ["fill_defaults_before_insert", "fill_insert_defaults", "same_as_created_at", "utc_now"]
