"""The datastore port: what a storage backend offers the rest of chapkit (sessions and a lifecycle)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Datastore(Protocol):
    """A storage backend: `Database`/`SqliteDatabase` for SQL, `InMemoryDatastore` for memory.

    `init()` prepares the storage (migrations, tables) and must be awaited before the first session;
    `session()` opens a unit of work that is rolled back unless committed; `ping()` raises when the
    storage cannot be reached (the health check uses it); `dispose()` releases connections.
    """

    url: str

    async def init(self) -> None:
        """Prepare the storage for use; safe to call once per process start."""
        ...

    def session(self) -> AbstractAsyncContextManager[Any]:
        """Open a session (unit of work) for repositories; closing it discards uncommitted writes."""
        ...

    async def ping(self) -> None:
        """Raise if the storage does not answer."""
        ...

    async def dispose(self) -> None:
        """Release connections and other resources."""
        ...


__all__ = ["Datastore"]
