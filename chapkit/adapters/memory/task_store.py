"""`InMemoryTaskStore`: task templates in memory, filtered by `enabled` as the SQL adapter does."""

from __future__ import annotations

from collections.abc import Sequence

from ulid import ULID

from chapkit.adapters.memory.repository import InMemoryRepository
from chapkit.adapters.memory.session import InMemorySession
from chapkit.domain.ports.task_store import TaskStore
from chapkit.domain.task import Task


class InMemoryTaskStore(InMemoryRepository[Task, ULID], TaskStore):
    """Task repository over an in-memory session."""

    def __init__(self, session: InMemorySession) -> None:
        """Bind the repository to a session."""
        super().__init__(session, Task)

    async def find_by_enabled(self, enabled: bool) -> list[Task]:
        """Return the tasks with this `enabled` value, ordered by id."""
        rows = self.s.rows(Task).items()
        return self._materialize_sorted((key, row) for key, row in rows if row.get("enabled") is enabled)

    async def find_all(self, *, enabled: bool | None = None) -> Sequence[Task]:
        """Return every task, or those with this `enabled` value; ordered by id."""
        if enabled is None:
            return await super().find_all()
        return await self.find_by_enabled(enabled)


__all__ = ["InMemoryTaskStore"]
