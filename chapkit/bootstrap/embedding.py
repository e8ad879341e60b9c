"""The embedding entry point: a chapkit service from plain Python, without HTTP.

`ChapkitService.open(url, ...)` fills a `ServiceSpec` and starts its container, as the FastAPI lifespan
does, and gives the container's application services (`chapkit.application.services`): `configs`,
`artifacts`, `tasks`, `ml` and `jobs`. Each call runs one use case in its own unit of work, through the
managers the HTTP routers use, and raises the errors the HTTP adapter turns into problems
(`NotFoundError` -> 404, `ConflictError` -> 409, `MLRequestError`, ...).
`ChapkitService.open_sync(...)` is the same service for scripts and notebooks, driven through an anyio
blocking portal at the edge.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal

from chapkit.application.services import (
    ArtifactService,
    ConfigService,
    JobFailedError,
    JobService,
    MLService,
    TaskService,
)
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.containers import MEMORY_URL, ServiceSpec, Storage, started
from chapkit.bootstrap.jobs_backend import JobsSettings
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import ModelRunnerProtocol
from chapkit.domain.ml_checks import ModelRequirements


class ChapkitService:
    """A started chapkit service in plain Python: typed facades over units of work, no HTTP."""

    def __init__(
        self,
        storage: Storage,
        *,
        config_schema: type[BaseConfig] | None = None,
        hierarchy: ArtifactHierarchy | None = None,
        runner: ModelRunnerProtocol | None = None,
        task_registry: TaskRegistry | None = None,
        requirements: ModelRequirements | None = None,
    ) -> None:
        """Wrap a started storage (see `open`, which builds one); the options given replace its spec's."""
        if storage.scheduler is None:
            raise ValueError("ChapkitService needs a storage with a started job scheduler (open_storage)")
        self.storage = storage
        given = {
            "config_schema": config_schema,
            "hierarchy": hierarchy,
            "runner": runner,
            "task_registry": task_registry,
            "requirements": requirements,
        }
        changes = {name: value for name, value in given.items() if value is not None}
        services = storage.with_spec(**changes) if changes else storage.services
        assert services.jobs is not None  # the storage has a scheduler
        self.configs: ConfigService = services.configs
        self.artifacts: ArtifactService = services.artifacts
        self.jobs: JobService = services.jobs
        self.tasks: TaskService = services.tasks
        self._ml: MLService | None = services.ml

    @property
    def ml(self) -> MLService:
        """Train and predict; only for a service opened with a `runner`."""
        if self._ml is None:
            raise RuntimeError("This service has no model runner: open it with runner=...")
        return self._ml

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        url: str = MEMORY_URL,
        *,
        config_schema: type[BaseConfig] = BaseConfig,
        hierarchy: ArtifactHierarchy | None = None,
        runner: ModelRunnerProtocol | None = None,
        task_registry: TaskRegistry | None = None,
        requirements: ModelRequirements | None = None,
        **database_options: Any,
    ) -> AsyncIterator[ChapkitService]:
        """Start a service on `url` (`memory://` or a SQLAlchemy URL); on exit, cancel its jobs and close it.

        Other options go to `create_container`: `jobs=JobsSettings(...)`, `datastore=...`, database options.
        """
        jobs = database_options.pop("jobs", None) or JobsSettings()
        datastore = database_options.pop("datastore", None)
        spec = ServiceSpec(
            url=url,
            datastore=datastore,
            database_options=database_options,
            jobs=jobs,
            config_schema=config_schema,
            hierarchy=hierarchy,
            runner=runner,
            task_registry=task_registry,
            requirements=requirements,
        )
        async with started(spec) as (container, services):
            yield cls(Storage(container, services))

    @classmethod
    def open_sync(cls, url: str = MEMORY_URL, **options: Any) -> SyncChapkitService:
        """Start the same service for synchronous code (scripts, notebooks); close it with `close()` or `with`."""
        return SyncChapkitService(url, **options)


class Blocking:
    """A facade's async methods, called from synchronous code through a blocking portal."""

    def __init__(self, portal: BlockingPortal, target: object) -> None:
        """Wrap `target`; its coroutine methods run on the portal's event loop."""
        self._portal = portal
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        portal = self._portal

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            return portal.call(functools.partial(attribute, *args, **kwargs))

        return call


class SyncChapkitService:
    """`ChapkitService` for synchronous code: the same facades, each call run on a background event loop."""

    def __init__(self, url: str = MEMORY_URL, **options: Any) -> None:
        """Start the service on `url` (same options as `ChapkitService.open`)."""
        self._stack = ExitStack()
        try:
            portal = self._stack.enter_context(start_blocking_portal())
            opened: AbstractContextManager[ChapkitService] = portal.wrap_async_context_manager(
                ChapkitService.open(url, **options)
            )
            self.service = self._stack.enter_context(opened)
        except BaseException:
            self._stack.close()
            raise
        blocking: Callable[[object], Blocking] = functools.partial(Blocking, portal)
        self.configs = blocking(self.service.configs)
        self.artifacts = blocking(self.service.artifacts)
        self.tasks = blocking(self.service.tasks)
        self.jobs = blocking(self.service.jobs)
        self._portal = portal

    @property
    def ml(self) -> Blocking:
        """Train and predict (see `ChapkitService.ml`)."""
        return Blocking(self._portal, self.service.ml)

    def close(self) -> None:
        """Stop the service (jobs canceled, storage closed) and its event loop."""
        self._stack.close()

    def __enter__(self) -> SyncChapkitService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = [
    "ArtifactService",
    "Blocking",
    "ChapkitService",
    "ConfigService",
    "JobFailedError",
    "JobService",
    "MLService",
    "SyncChapkitService",
    "TaskService",
]
