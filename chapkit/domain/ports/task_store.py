"""The task store port: a repository of task templates, filtered by whether they are enabled."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from ulid import ULID

from chapkit.domain.ports.repository import Repository
from chapkit.domain.task import Task


class TaskStore(Repository[Task, ULID]):
    """Storage of `Task` entities (adapters: `TaskRepository` on SQL, `InMemoryTaskStore`).

    Lists are ordered by id ascending, as every repository's (D8). Changes are staged until `commit()`.
    """

    @abstractmethod
    async def find_by_enabled(self, enabled: bool) -> list[Task]:
        """Return the tasks whose `enabled` equals `enabled`, ordered by id."""

    @abstractmethod
    async def find_all(self, *, enabled: bool | None = None) -> Sequence[Task]:
        """Return every task, or only those with this `enabled` value when it is given; ordered by id."""


__all__ = ["TaskStore"]
