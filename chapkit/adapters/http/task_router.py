"""`TaskRouter`: task CRUD, `GET ?enabled=` filtering and `POST /{id}/$execute` (202 with the job id).

`$execute` of a task that does not exist answers 400 (a `bad-request` problem), as the reference does
(D14): the reference turned every `ValueError` of execution into a 400, and clients rely on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Depends, Query, Response, status
from pydantic import TypeAdapter

from chapkit.adapters.http.crud import JSON_MEDIA_TYPE, CrudPermissions, CrudRouter, ManagerFactory
from chapkit.adapters.http.pagination import PageQuery, SizeQuery
from chapkit.adapters.http.utilities import UlidPath, parse_ulid
from chapkit.application.task_manager import TaskManager
from chapkit.domain.errors import BadRequestError
from chapkit.domain.schemas import PaginatedResponse
from chapkit.domain.task import TaskExecuteResponse, TaskIn, TaskNotFoundError, TaskOut

_EXECUTE_RESPONSE: TypeAdapter[TaskExecuteResponse] = TypeAdapter(TaskExecuteResponse)


class TaskRouter(CrudRouter[TaskIn, TaskOut]):
    """CRUD router for Task entities with execution operation."""

    def __init__(
        self,
        prefix: str,
        tags: Sequence[str],
        manager_factory: ManagerFactory,
        entity_in_type: type[TaskIn],
        entity_out_type: type[TaskOut],
        permissions: CrudPermissions | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize task router with entity types and manager factory."""
        super().__init__(
            prefix=prefix,
            tags=list(tags),
            entity_in_type=entity_in_type,
            entity_out_type=entity_out_type,
            manager_factory=manager_factory,
            permissions=permissions,
            **kwargs,
        )

    def _register_find_all_route(self) -> None:
        """Register find all route with enabled filtering support."""
        manager_dep = self._manager_dependency()
        out = self.entity_out_type

        async def find_all(
            page: PageQuery = None,
            size: SizeQuery = None,
            enabled: bool | None = Query(None, description="Filter by enabled status"),
            manager: TaskManager = manager_dep,
        ) -> Response:
            # Pagination is opt-in: both page and size must be provided (it does not filter).
            if page is not None and size is not None:
                items, total = await manager.find_paginated(page, size)
                paginated = self._page_type(items=items, total=total, page=page, size=size)
                return Response(paginated.model_dump_json(), media_type=JSON_MEDIA_TYPE)
            return self._json(self._list_adapter, await manager.find_all(enabled=enabled))

        self.router.add_api_route(
            "",
            find_all,
            methods=["GET"],
            response_model=list[out] | PaginatedResponse[out],  # type: ignore[valid-type]
            summary="List (filtered by enabled; paginated when page and size are given)",
        )

    def _register_routes(self) -> None:
        """Register task CRUD routes and execution operation."""
        super()._register_routes()
        manager_factory = self.manager_factory

        async def execute_task(entity_id: UlidPath, manager: TaskManager = Depends(manager_factory)) -> Response:
            """Execute a task asynchronously via the job scheduler."""
            task_id = parse_ulid(entity_id)
            try:
                job_id = await manager.execute_task(task_id)
            except TaskNotFoundError as error:
                raise BadRequestError(str(error), task_id=str(task_id)) from None
            accepted = TaskExecuteResponse(
                job_id=str(job_id), message=f"Task submitted for execution. Job ID: {job_id}"
            )
            return Response(
                _EXECUTE_RESPONSE.dump_json(accepted), status_code=status.HTTP_202_ACCEPTED, media_type=JSON_MEDIA_TYPE
            )

        self.register_entity_operation(
            "execute",
            execute_task,
            http_method="POST",
            response_model=TaskExecuteResponse,
            status_code=status.HTTP_202_ACCEPTED,
            summary="Execute task",
            description="Submit the task to the scheduler for execution",
        )


__all__ = ["TaskRouter"]
