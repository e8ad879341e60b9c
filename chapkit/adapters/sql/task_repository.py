"""`TaskRepository`: task templates on SQL (the reference's name, D3)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from ulid import ULID

from chapkit.adapters.sql.errors import translated
from chapkit.adapters.sql.repository import BaseRepository
from chapkit.adapters.sql.schema.entities import map_entities, tasks_table
from chapkit.domain.ports.task_store import TaskStore
from chapkit.domain.task import Task

_tasks = tasks_table.c


class TaskRepository(BaseRepository[Task, ULID], TaskStore):
    """Repository for Task template entities."""

    def __init__(self, session: AsyncSession) -> None:
        """Initialize task repository with database session."""
        map_entities()  # a session of users' own engine works too
        super().__init__(session, Task)

    @translated
    async def find_by_enabled(self, enabled: bool) -> list[Task]:
        """Find all tasks by enabled status, ordered by id (D8; the reference listed newest first)."""
        query = select(Task).where(_tasks.enabled == enabled).order_by(_tasks.id)
        return list((await self.s.scalars(query)).all())

    async def find_all(self, *, enabled: bool | None = None) -> Sequence[Task]:
        """Find all tasks, optionally filtered by enabled status."""
        if enabled is None:
            return await super().find_all()
        return await self.find_by_enabled(enabled)


__all__ = ["TaskRepository"]
