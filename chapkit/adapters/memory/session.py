"""The memory adapter's session: committed tables per entity type, and sessions that stage writes (D9)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

from chapkit.domain.errors import ConflictError, InvalidULIDError

Snapshot = dict[str, Any]
"""An entity's public attributes, deep-copied: what the memory adapter stores."""


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def id_key(value: Any) -> Any:
    """Return the table key for an id: ULID strings are parsed so `str` and `ULID` ids find the same row."""
    if isinstance(value, str):
        try:
            return ULID.from_str(value)
        except ValueError as exc:
            raise InvalidULIDError(f"Invalid ULID format: {value!r}") from exc
    return value


def snapshot_of(entity: object) -> Snapshot:
    """Copy an entity's public attributes, so later mutation of the object changes nothing stored."""
    return {name: copy.deepcopy(value) for name, value in vars(entity).items() if not name.startswith("_")}


def materialize(model: Callable[..., Any], snapshot: Snapshot) -> Any:
    """Build a fresh entity from a snapshot (entities accept their attributes as keyword arguments)."""
    return model(**copy.deepcopy(snapshot))


@dataclass(slots=True)
class _Write:
    """One staged write: the new snapshot (None for a delete) and whether it inserts a new row."""

    snapshot: Snapshot | None
    inserts: bool


class CommittedTables:
    """The committed rows of every entity type: what sessions read and apply their writes to."""

    def __init__(self) -> None:
        """Start with no rows."""
        self._tables: dict[type, dict[Any, Snapshot]] = {}

    def committed(self, model: type) -> dict[Any, Snapshot]:
        """Return the committed table of `model` (created empty on first use)."""
        return self._tables.setdefault(model, {})

    def apply(self, writes: dict[type, dict[Any, _Write]]) -> None:
        """Apply one session's writes atomically, or raise `ConflictError` and apply none."""
        for model, rows in writes.items():
            table = self.committed(model)
            for key, write in rows.items():
                if write.snapshot is not None and write.inserts and key in table:
                    raise ConflictError(f"{model.__name__} with id {key} already exists")
        for model, rows in writes.items():
            table = self.committed(model)
            for key, write in rows.items():
                if write.snapshot is None:
                    table.pop(key, None)
                else:
                    table[key] = write.snapshot

    def clear(self) -> None:
        """Drop every row."""
        self._tables.clear()


class InMemorySession:
    """A session on committed tables: writes are staged until `commit()` (D9)."""

    def __init__(self, tables: CommittedTables) -> None:
        """Open a session on `tables` with nothing staged."""
        self.tables = tables
        self._writes: dict[type, dict[Any, _Write]] = {}

    def rows(self, model: type) -> dict[Any, Snapshot]:
        """Return what this session sees of `model`: committed rows with its own writes applied."""
        visible = dict(self.tables.committed(model))
        for key, write in self._writes.get(model, {}).items():
            if write.snapshot is None:
                visible.pop(key, None)
            else:
                visible[key] = write.snapshot
        return visible

    def find(self, model: type, key: Any) -> Snapshot | None:
        """Return the visible snapshot with this key, or None."""
        staged = self._writes.get(model, {}).get(key)
        if staged is not None:
            return staged.snapshot
        return self.tables.committed(model).get(key)

    def stage(self, model: type, key: Any, snapshot: Snapshot | None) -> None:
        """Stage an insert, update (snapshot) or delete (None) of the row with this key."""
        staged = self._writes.setdefault(model, {})
        previous = staged.get(key)
        if snapshot is None:
            if previous is not None and previous.inserts:
                del staged[key]  # inserted and deleted in one session: nothing to apply
                return
            inserts = False
        elif previous is not None:
            inserts = previous.inserts
        else:
            inserts = key not in self.tables.committed(model)
        staged[key] = _Write(snapshot, inserts)

    async def commit(self) -> None:
        """Apply the staged writes atomically; on `ConflictError` nothing is applied and nothing stays staged."""
        writes, self._writes = self._writes, {}
        self.tables.apply(writes)

    async def rollback(self) -> None:
        """Discard the staged writes."""
        self._writes = {}

    async def close(self) -> None:
        """Discard the staged writes (the session stays usable, as SQLAlchemy's does)."""
        await self.rollback()


__all__ = [
    "CommittedTables",
    "InMemorySession",
    "Snapshot",
    "id_key",
    "materialize",
    "snapshot_of",
    "utc_now",
]
