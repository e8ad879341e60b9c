"""Tasks: registered Python functions (with injected parameters) and shell commands, run as jobs.

Two Python functions are registered on this service's own `TaskRegistry`: `scale` takes its arguments
from the task's `parameters`; `count_artifacts` receives an `ArtifactManager` by type (a `JobScheduler`,
`Datastore`, `UnitOfWork`, and on SQL an `AsyncSession` and `Database`, can be injected the same way).
Shell tasks are commands run through `/bin/sh -c` (pipes and redirects work), each in a process group
of its own that is killed on cancel, timeout or shutdown. Run from the repository root:

    chapkit serve examples.tasks.main:app

then create a task (`POST /api/v1/tasks`), execute it (`POST /api/v1/tasks/{id}/$execute`: 202 with
`job_id`), wait for `GET /api/v1/jobs/{job_id}` to be `completed` and read the run's result at
`GET /api/v1/artifacts/{artifact_id}`. Storage: `tasks.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os

from chapkit import ArtifactHierarchy, ArtifactManager, ServiceBuilder, ServiceInfo, TaskRegistry

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///tasks.db")

registry = TaskRegistry()
"""This service's task functions (`TaskRegistry.register(...)` on the class uses a process-wide one)."""


@registry.register("scale")
def scale(values: list[float], factor: float = 2.0) -> list[float]:
    """Multiply every value by `factor` (a plain function: it runs on a worker thread)."""
    return [value * factor for value in values]


@registry.register("count_artifacts")
async def count_artifacts(artifacts: ArtifactManager, level: int | None = None) -> dict[str, int]:
    """Count the stored artifacts (all, or those at `level`); `artifacts` is injected by type."""
    found = await artifacts.find_all()
    matching = [artifact for artifact in found if level is None or artifact.level == level]
    return {"artifacts": len(matching)}


app = (
    ServiceBuilder(info=ServiceInfo(display_name="Task runner", summary="Python and shell tasks"))
    .with_database(DATABASE_URL)
    .with_logging()
    .with_health()
    .with_artifacts(hierarchy=ArtifactHierarchy(name="task_runs", level_labels={0: "run"}))
    .with_jobs()
    .with_tasks(registry=registry)
    .build()
)
