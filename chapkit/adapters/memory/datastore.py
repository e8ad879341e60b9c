"""The in-memory datastore: committed tables per entity type and job records, in process memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chapkit.adapters.memory.job_store import InMemoryJobRecordStore
from chapkit.adapters.memory.session import CommittedTables, InMemorySession
from chapkit.adapters.memory.unit_of_work import InMemoryUnitOfWork
from chapkit.domain.ports.datastore import Datastore


class InMemoryDatastore(Datastore):
    """Datastore keeping committed entities and job records in process memory; `memory://` selects it (D11)."""

    def __init__(self, url: str = "memory://") -> None:
        """Create an empty store."""
        self.url = url
        self.tables = CommittedTables()
        self.job_records = InMemoryJobRecordStore()

    async def init(self) -> None:
        """Nothing to prepare: tables appear on first write."""

    async def ping(self) -> None:
        """Always reachable."""

    async def dispose(self) -> None:
        """Drop every stored entity."""
        self.tables.clear()

    def unit_of_work(self, *, write: bool = False) -> InMemoryUnitOfWork:
        """Return a new unit of work on this store (`write` changes nothing in memory)."""
        return InMemoryUnitOfWork(self.tables, self.job_records)

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[InMemorySession]:
        """Open a session; what it did not commit is discarded on exit (`write` changes nothing in memory)."""
        session = InMemorySession(self.tables)
        try:
            yield session
        finally:
            await session.rollback()


__all__ = ["InMemoryDatastore"]
