"""The datastore port: what a storage backend offers the rest of chapkit (units of work and a lifecycle)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from typing import Any

from chapkit.domain.ports.unit_of_work import UnitOfWork


class Datastore(ABC):
    """A storage backend: `Database`/`SqliteDatabase` for SQL, `InMemoryDatastore` for memory.

    `init()` prepares the storage (migrations, tables) and must be awaited before the first unit of work;
    `unit_of_work()` is how chapkit reaches the data; `session()` is the adapter's own session (an
    SQLAlchemy `AsyncSession` on SQL), for code written against that technology; `ping()` raises when
    the storage cannot be reached (the health check uses it); `dispose()` releases connections.
    `write=True` declares that the unit will write, so an adapter may take its write turn up front.
    """

    url: str

    @abstractmethod
    async def init(self) -> None:
        """Prepare the storage for use; safe to call once per process start."""

    @abstractmethod
    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        """Return a new, not yet entered unit of work on this storage."""

    @abstractmethod
    def session(self, *, write: bool = False) -> AbstractAsyncContextManager[Any]:
        """Open the adapter's own session; closing it discards uncommitted writes."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the storage does not answer."""

    @abstractmethod
    async def dispose(self) -> None:
        """Release connections and other resources."""


__all__ = ["Datastore"]
