"""The unit-of-work port: one transaction on the storage and the typed repositories that share it (D21)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Self, cast

from ulid import ULID

from chapkit.domain.artifact import Artifact
from chapkit.domain.config import Config
from chapkit.domain.jobs import JobRecord
from chapkit.domain.ports.artifact_store import ArtifactStore
from chapkit.domain.ports.config_store import ConfigStore
from chapkit.domain.ports.repository import Repository, T
from chapkit.domain.ports.task_store import TaskStore
from chapkit.domain.task import Task


class JobRecordReader(ABC):
    """Job records as a unit of work reads them (schedulers write them through `JobRecordStore`, D16).

    Records are fresh copies, listed newest first (`submitted_at` descending, then id descending).
    """

    @abstractmethod
    async def get(self, job_id: ULID) -> JobRecord | None:
        """Return the record with this id, or None."""

    @abstractmethod
    async def list_records(self, *, offset: int = 0, limit: int | None = None) -> list[JobRecord]:
        """Return records newest first, skipping `offset` and returning at most `limit` (all when None)."""

    @abstractmethod
    async def count(self) -> int:
        """Return how many records are stored."""


class UnitOfWork(ABC):
    """One transaction on the storage, with typed repositories that share it (D9, D21).

    Use it as `async with datastore.unit_of_work() as uow:` (the container and `Storage` give them too).
    Entering opens the transaction; every repository of the unit works in it; `commit()` makes what they
    staged durable and visible to other units and raises `ConflictError` on a key clash; `rollback()`
    discards it. Leaving the block without `commit()` (normally or by an exception) discards what was not
    committed. A unit is entered once. Repositories are reached by property (`configs`, `artifacts`, `jobs`)
    or by entity type (`repository(model)`, for users' own entities and chapkit's alike): a module that
    adds an entity gives each adapter one entry in its repository table and, if useful, a typed property
    here, never a check of the session's type.
    """

    @abstractmethod
    async def __aenter__(self) -> Self:
        """Open the transaction; return the unit itself."""

    @abstractmethod
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Discard what was not committed and release the connection."""

    @property
    @abstractmethod
    def session(self) -> Any:
        """The adapter's own session under the unit (an SQLAlchemy `AsyncSession` on SQL).

        For code written against that technology; raises `RuntimeError` outside `async with`.
        """

    @abstractmethod
    def repository(self, model: type[T]) -> Repository[T, Any]:
        """Return the repository of `model` in this unit (the same object on every call).

        chapkit's entities get their specialised repository (`Config` a `ConfigStore`, `Artifact` an
        `ArtifactStore`); any other entity the generic one. Raises `RuntimeError` outside `async with`.
        """

    @property
    @abstractmethod
    def jobs(self) -> JobRecordReader:
        """The job records, read in this unit."""

    @property
    def configs(self) -> ConfigStore:
        """The configs (and their links to artifacts) in this unit."""
        return cast("ConfigStore", self.repository(Config))

    @property
    def artifacts(self) -> ArtifactStore:
        """The artifacts in this unit."""
        return cast("ArtifactStore", self.repository(Artifact))

    @property
    def tasks(self) -> TaskStore:
        """The task templates in this unit."""
        return cast("TaskStore", self.repository(Task))

    @abstractmethod
    async def commit(self) -> None:
        """Make the unit's staged writes durable and visible; raises `ConflictError` on a key clash."""

    @abstractmethod
    async def rollback(self) -> None:
        """Discard the unit's staged writes; the unit stays usable."""


__all__ = ["JobRecordReader", "UnitOfWork"]
