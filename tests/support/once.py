"""Make each thing once per key, and give every later caller the same result or the same failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Once(Generic[T]):
    """`once(key)`: `make(key)` the first time; afterwards what it returned, or what it raised, again."""

    def __init__(self, make: Callable[[str], T]) -> None:
        self._make = make
        self._made: dict[str, T | BaseException] = {}

    def __call__(self, key: str) -> T:
        if key not in self._made:
            try:
                self._made[key] = self._make(key)
            except BaseException as error:  # every case that needs it reports the same failure
                self._made[key] = error
        found = self._made[key]
        if isinstance(found, BaseException):
            raise found
        return found


__all__ = ["Once"]
