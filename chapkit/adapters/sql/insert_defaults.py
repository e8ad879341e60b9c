"""Column defaults a new object gets when it is staged, so that its flush is SQLAlchemy's plain insert.

A mapped object whose primary key or defaulted columns are unset makes the ORM's flush take its
slow path for the row: it runs the Python defaults inside the statement's execution, and builds a
`return_defaults()` variant of the INSERT (a new statement, so a new cache key) to bring the values
back onto the object. An object that holds every such value is inserted with the cached statement
as it is. `fill_insert_defaults` sets, on a new object, the values the same defaults would have
given it at the flush, for the defaults whose value does not depend on the flush:

- a constant (`default=0`);
- chapkit's own callables: `ULID` (a new id), `utc_now` (the time), and `same_as_created_at` (the
  value just given to `created_at`, so a new row's two timestamps are equal, as at the flush).

Any other default (a users' callable, an SQL expression, a server default alone) is left to the flush,
as before. An attribute the object already holds (`None` counts as unset, as the ORM's insert treats
it) is never changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect
from ulid import ULID

from chapkit.adapters.sql.schema.base import same_as_created_at, utc_now

_Filler = tuple[str, Callable[[dict[str, Any]], Any]]

_CALLABLES: dict[Any, Callable[[dict[str, Any]], Any]] = {
    ULID: lambda values: ULID(),
    utc_now: lambda values: utc_now(),
    same_as_created_at: lambda values: values.get("created_at") or utc_now(),
}
"""Chapkit's default callables, each as what it gives a row whose values so far are `values`."""

_FILLERS: dict[type, tuple[_Filler, ...]] = {}


def _constant(value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda values: value


def _filler(column: Any) -> Callable[[dict[str, Any]], Any] | None:
    """How a new row gets `column`'s default before the flush, or None where only the flush can give it."""
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return _constant(default.arg)
    if default.is_callable:
        return _CALLABLES.get(getattr(default.arg, "__wrapped__", default.arg))
    return None


def _fillers(model: type) -> tuple[_Filler, ...]:
    """Per mapped class, once: the (attribute, values of the row so far -> default) pairs, `updated_at`'s last."""
    fillers = _FILLERS.get(model)
    if fillers is None:
        found: list[_Filler] = []
        attrs: Any = inspect(model).column_attrs
        for attr in attrs:
            if len(attr.columns) == 1 and (fill := _filler(attr.columns[0])) is not None:
                found.append((attr.key, fill))
        # `same_as_created_at` reads the row's `created_at`: it goes after every other default.
        found.sort(key=lambda filler: filler[1] is _CALLABLES[same_as_created_at])
        fillers = _FILLERS[model] = tuple(found)
    return fillers


def fill_insert_defaults(entity: object) -> None:
    """Give a new mapped object the defaults its flush would give it, where they do not depend on the flush."""
    fillers = _fillers(type(entity))
    if not fillers:
        return
    values = vars(entity)
    for key, fill in fillers:
        if values.get(key) is None:
            setattr(entity, key, fill(values))


__all__ = ["fill_insert_defaults"]
