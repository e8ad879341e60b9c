"""`SqlUnitOfWork`: the unit-of-work port on one `AsyncSession` from `Database.session()`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self

from sqlalchemy.ext.asyncio import AsyncSession

from chapkit.adapters.sql.artifact_repository import ArtifactRepository
from chapkit.adapters.sql.config_repository import ConfigRepository
from chapkit.adapters.sql.errors import domain_errors
from chapkit.adapters.sql.job_store import SqlJobRecordReader
from chapkit.adapters.sql.repository import BaseRepository
from chapkit.adapters.sql.task_repository import TaskRepository
from chapkit.domain.artifact import Artifact
from chapkit.domain.config import Config
from chapkit.domain.ports.repository import Repository, T
from chapkit.domain.ports.unit_of_work import JobRecordReader, UnitOfWork
from chapkit.domain.task import Task

RepositoryFactory = Callable[[AsyncSession], Repository[Any, Any]]


class SessionSource(Protocol):
    """What a unit opens its session on: a `Database`."""

    def session(self, *, write: bool = False) -> AbstractAsyncContextManager[AsyncSession]:
        """Open a session; closing it rolls back what was not committed."""
        ...


class SqlUnitOfWork(UnitOfWork):
    """A unit of work on SQL: one `AsyncSession` of `database.session(write=...)`, rolled back unless committed.

    `write=True` declares that the unit will write (a SQLite file may then take its write turn up front).
    """

    repositories: ClassVar[dict[type, RepositoryFactory]] = {
        Config: ConfigRepository,
        Artifact: ArtifactRepository,
        Task: TaskRepository,
    }
    """The specialised repository of each chapkit entity; other entities get `BaseRepository`."""

    def __init__(self, database: SessionSource, *, write: bool = False) -> None:
        """Prepare a unit on `database` (no connection is taken before `async with`)."""
        self._database = database
        self._write = write
        self._context: AbstractAsyncContextManager[AsyncSession] | None = None
        self._session: AsyncSession | None = None
        self._opened: dict[type, Repository[Any, Any]] = {}

    @property
    def session(self) -> AsyncSession:
        """The unit's SQLAlchemy session (for SQL of your own in the same transaction)."""
        if self._session is None:
            raise RuntimeError("This unit of work is not open: use it inside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        """Open the session."""
        if self._context is not None:
            raise RuntimeError("A unit of work is entered once")
        self._context = self._database.session(write=self._write)
        self._session = await self._context.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Close the session, which rolls back what was not committed."""
        assert self._context is not None
        self._session = None
        await self._context.__aexit__(exc_type, exc, traceback)

    def repository(self, model: type[T]) -> Repository[T, Any]:
        """Return the repository of `model` in this unit (created on first use)."""
        repository = self._opened.get(model)
        if repository is None:
            factory = self.repositories.get(model)
            repository = factory(self.session) if factory is not None else BaseRepository(self.session, model)
            self._opened[model] = repository
        return repository

    @property
    def jobs(self) -> JobRecordReader:
        """The job records, read on this unit's session."""
        return SqlJobRecordReader(self.session)

    async def commit(self) -> None:
        """Commit the session; on failure it is rolled back and the error translated (`ConflictError`...)."""
        try:
            with domain_errors():
                await self.session.commit()
        except BaseException:
            await self.session.rollback()
            raise

    async def rollback(self) -> None:
        """Roll the session back."""
        await self.session.rollback()


__all__ = ["SqlUnitOfWork"]
