"""Tasks: reusable shell commands and registered Python functions, run as jobs; the task API's schemas.

A shell task's `command` is its owner's own shell text, run through `/bin/sh -c` as in the reference
(D23): pipes, redirects and `&&` work. Nothing else from a request (a task's `parameters` included) is
ever put into it. A Python task's `command` is the name of a function in a `TaskRegistry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from ulid import ULID

from chapkit.domain.data_bounds import MAX_CONFIG_DATA_BYTES, check_data, check_json_size, check_text
from chapkit.domain.errors import BadRequestError, NotFoundError
from chapkit.domain.schemas import EntityIn, EntityOut

TaskType = Literal["shell", "python"]


@dataclass(kw_only=True, eq=False)
class Task:
    """A reusable task template: a shell command or the name of a registered Python function.

    `timeout` (seconds, optional) ends a run that takes longer. Entities compare by identity.
    """

    command: str
    task_type: str = "shell"
    parameters: dict[str, Any] | None = None
    enabled: bool = True
    timeout: float | None = None
    id: ULID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TaskNotFoundError(NotFoundError, ValueError):
    """No task has this id (404; also a `ValueError`, as the reference raised)."""


class TaskDisabledError(BadRequestError, ValueError):
    """The task is disabled and cannot be executed (400; also a `ValueError`)."""


class TaskExecutionUnavailableError(BadRequestError, ValueError):
    """The service cannot execute tasks: no job scheduler or no artifact storage (400, the reference's messages)."""


def task_snapshot(task: Task) -> dict[str, Any]:
    """The task as it was when a run started, stored with the run's result."""
    created, updated = task.created_at, task.updated_at
    return {
        "id": str(task.id),
        "command": task.command,
        "task_type": task.task_type,
        "parameters": task.parameters,
        "timeout": task.timeout,
        "created_at": created.isoformat() if created is not None else None,
        "updated_at": updated.isoformat() if updated is not None else None,
    }


class TaskIn(EntityIn):
    """Input schema for creating or updating task templates."""

    command: str = Field(
        description="Shell command or Python function name to execute (not blank)",
        # Documents the rule `command_is_runnable` keeps, so the schema says what is accepted.
        json_schema_extra={"pattern": r"\S"},
    )
    task_type: TaskType = Field(default="shell", description="Type of task: 'shell' or 'python'")
    parameters: dict[str, Any] | None = Field(
        default=None, description="Parameters to pass to Python function (ignored for shell tasks)"
    )
    # Strict, as the schema says: `0`, `"yes"` or `"5"` are neither booleans nor numbers.
    enabled: bool = Field(default=True, strict=True, description="Whether task is enabled for execution")
    timeout: float | None = Field(
        default=None, gt=0, strict=True, description="Seconds after which a run is ended and recorded as timed out"
    )

    @field_validator("command")
    @classmethod
    def bound_command(cls, value: str) -> str:
        """Reject a command that cannot be stored (a NUL) or that no UTF-8 response could carry."""
        return check_text(value, what="Task command")

    @field_validator("parameters", mode="before")
    @classmethod
    def bound_parameters(cls, value: Any) -> Any:
        """Reject parameters nested too deeply, too large or with text that cannot be stored."""
        if value is not None:
            check_data(value, what="Task parameters", max_bytes=MAX_CONFIG_DATA_BYTES)
            check_json_size(value, what="Task parameters")
        return value

    @model_validator(mode="after")
    def command_is_runnable(self) -> TaskIn:
        """A shell command must not be blank (its syntax is the shell's to judge); a Python task names a function."""
        if not self.command.strip():
            if self.task_type == "shell":
                raise ValueError("A shell task's command must not be blank")
            raise ValueError("A Python task's command must name a registered function")
        return self


class TaskOut(EntityOut):
    """Output schema for task template entities."""

    command: str = Field(description="Shell command or Python function name to execute")
    task_type: str = Field(description="Type of task: 'shell' or 'python'")
    parameters: dict[str, Any] | None = Field(default=None, description="Parameters to pass to Python function")
    enabled: bool = Field(description="Whether task is enabled for execution")
    timeout: float | None = Field(default=None, description="Seconds after which a run is ended")


class TaskExecuteResponse(BaseModel):
    """Response of `POST /tasks/{id}/$execute`: the id of the job that runs the task."""

    job_id: str = Field(description="ID of the scheduler job running the task")
    message: str = Field(description="Human-readable message")


__all__ = [
    "Task",
    "TaskDisabledError",
    "TaskExecuteResponse",
    "TaskExecutionUnavailableError",
    "TaskIn",
    "TaskNotFoundError",
    "TaskOut",
    "TaskType",
    "task_snapshot",
]
