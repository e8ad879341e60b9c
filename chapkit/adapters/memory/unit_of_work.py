"""`InMemoryUnitOfWork`: the unit-of-work port on a session of an `InMemoryDatastore`'s tables."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar, Self

from chapkit.adapters.memory.artifact_store import InMemoryArtifactStore
from chapkit.adapters.memory.config_store import InMemoryConfigStore
from chapkit.adapters.memory.job_store import InMemoryJobRecordStore
from chapkit.adapters.memory.repository import InMemoryRepository
from chapkit.adapters.memory.session import CommittedTables, InMemorySession
from chapkit.adapters.memory.task_store import InMemoryTaskStore
from chapkit.domain.artifact import Artifact
from chapkit.domain.config import Config
from chapkit.domain.ports.repository import Repository, T
from chapkit.domain.ports.unit_of_work import JobRecordReader, UnitOfWork
from chapkit.domain.task import Task

RepositoryFactory = Callable[[InMemorySession], Repository[Any, Any]]


class InMemoryUnitOfWork(UnitOfWork):
    """A unit of work on process memory: one `InMemorySession`, whose writes are staged until `commit()`."""

    repositories: ClassVar[dict[type, RepositoryFactory]] = {
        Config: InMemoryConfigStore,
        Artifact: InMemoryArtifactStore,
        Task: InMemoryTaskStore,
    }
    """The specialised repository of each chapkit entity; other entities get `InMemoryRepository`."""

    def __init__(self, tables: CommittedTables, job_records: InMemoryJobRecordStore) -> None:
        """Prepare a unit on a datastore's `tables` and `job_records` (nothing is opened before `async with`)."""
        self._tables = tables
        self._job_records = job_records
        self._session: InMemorySession | None = None
        self._opened: dict[type, Repository[Any, Any]] = {}

    @property
    def session(self) -> InMemorySession:
        """The unit's session; raises `RuntimeError` outside `async with`."""
        if self._session is None:
            raise RuntimeError("This unit of work is not open: use it inside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        """Open the unit's session."""
        if self._session is not None:
            raise RuntimeError("A unit of work is entered once")
        self._session = InMemorySession(self._tables)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Discard what was not committed."""
        await self.session.rollback()

    def repository(self, model: type[T]) -> Repository[T, Any]:
        """Return the repository of `model` in this unit (created on first use)."""
        repository = self._opened.get(model)
        if repository is None:
            factory = self.repositories.get(model)
            repository = factory(self.session) if factory is not None else InMemoryRepository(self.session, model)
            self._opened[model] = repository
        return repository

    @property
    def jobs(self) -> JobRecordReader:
        """The datastore's job records (in memory they are written at once, never staged)."""
        return self._job_records

    async def commit(self) -> None:
        """Apply the staged writes atomically (`ConflictError` applies none)."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Discard the staged writes."""
        await self.session.rollback()


__all__ = ["InMemoryUnitOfWork"]
