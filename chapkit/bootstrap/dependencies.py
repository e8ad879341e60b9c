"""FastAPI dependencies that resolve the *running* service (D6), and the per-service runtime they read.

Every built app owns a `ServiceRuntime` (its started container, scheduler, app registry). The runtime is made
current in a context variable for the lifespan (so `on_startup` hooks see it) and for every request
(by `ServiceContextMiddleware`). Outside both, the most recently started service still running is
used, so `get_database()` works in plain code too; two services never see each other's objects.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from chapkit.adapters.http.app import AppManager
from chapkit.adapters.scheduler.references import InstanceProvider
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.containers import ServiceContainer, create_container, datastore_of, is_memory_url, use_datastore
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.ports import Datastore, JobScheduler, UnitOfWork

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Requests with these methods get read units of work; every other method declares that it writes."""


def writes(request: Request) -> bool:
    """Whether a request's unit of work declares the intent to write (its method is not read-only)."""
    return request.method not in READ_ONLY_METHODS


class ServiceRuntime:
    """What one running service owns: its started container (the one way to its data), scheduler and apps."""

    def __init__(self, name: str = "") -> None:
        """Create an empty runtime (nothing started yet)."""
        self.name = name
        self.container: ServiceContainer | None = None
        self.scheduler: JobScheduler | None = None
        self.app_manager: AppManager | None = None
        self.config_schema: type[BaseConfig] = BaseConfig
        """The schema `get_config_manager` validates into (`with_config(schema)` sets it)."""
        self.artifact_hierarchy: ArtifactHierarchy | None = None
        """The hierarchy `get_artifact_manager` labels levels with (`with_artifacts(hierarchy=...)` sets it)."""
        self.artifact_includes_config = True
        """Whether `get_artifact_manager`'s managers reach configs (config linking)."""
        self.task_registry: TaskRegistry | None = None
        """The registry of the service's Python tasks (`with_tasks(registry=...)`; None: the default one)."""
        self.job_instances: dict[type, InstanceProvider] = {}
        """The objects whose methods jobs may name, by class (ML and task managers): what a worker runs (D22)."""

    @property
    def database(self) -> Datastore | None:
        """The datastore the container's units of work use, or None before the service starts."""
        return None if self.container is None else datastore_of(self.container)

    @database.setter
    def database(self, database: Datastore | None) -> None:
        """Make the service's units of work use `database` (None: forget the container)."""
        if database is None:
            self.container = None
        elif self.container is None:
            self.container = create_container(datastore=database)
        else:
            use_datastore(self.container, database)

    def require_container(self) -> ServiceContainer:
        """Return the container, or raise when the service has not started."""
        if self.container is None:
            raise RuntimeError("Database not initialized. Call set_database() during app startup.")
        return self.container

    def require_database(self) -> Datastore:
        """Return the database, or raise when the service has not started."""
        return datastore_of(self.require_container())

    def require_scheduler(self) -> JobScheduler:
        """Return the scheduler, or raise when the service has none."""
        if self.scheduler is None:
            raise RuntimeError("Scheduler not initialized. Call set_scheduler() during app startup.")
        return self.scheduler

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        """Return a new unit of work from the service's container (`async with` it)."""
        uow: UnitOfWork = self.require_container().unit_of_work(write=write)
        return uow

    # Bound, async dependencies for the service's own routers: no thread hop, no context lookup.

    async def unit_of_work_dependency(self, request: Request) -> AsyncIterator[UnitOfWork]:
        """FastAPI dependency: a unit of work of this service for the request (writing unless GET/HEAD/OPTIONS)."""
        async with self.unit_of_work(write=writes(request)) as uow:
            yield uow

    async def scheduler_dependency(self) -> JobScheduler:
        """FastAPI dependency: this service's scheduler."""
        return self.require_scheduler()


class ServiceAppState(State):
    """`app.state` of a built service: `database` and `scheduler` are the runtime's, not copies of them."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        """State of the app served by `runtime`."""
        super().__init__({"service_runtime": runtime})

    @property
    def database(self) -> Datastore | None:
        """The service's datastore (None when it is not running)."""
        runtime: ServiceRuntime = self.service_runtime
        return runtime.database

    @property
    def scheduler(self) -> JobScheduler | None:
        """The service's scheduler (None when it is not running or has no jobs)."""
        runtime: ServiceRuntime = self.service_runtime
        return runtime.scheduler

    def __setattr__(self, key: Any, value: Any) -> None:
        """Store `key`; `database` and `scheduler` are set on the runtime (as `set_database` does)."""
        if key in ("database", "scheduler"):
            setattr(self.service_runtime, key, value)
        else:
            super().__setattr__(key, value)


_current: ContextVar[ServiceRuntime | None] = ContextVar("chapkit_current_service", default=None)
_running: list[ServiceRuntime] = []
"""Started services, most recent last: the fallback outside a lifespan or request (D6)."""
_standalone = ServiceRuntime("standalone")
"""Where the setters write when no service is current (plain scripts and tests)."""


def current_runtime() -> ServiceRuntime:
    """Return the current service's runtime: context variable, else most recently started, else standalone."""
    runtime = _current.get()
    if runtime is not None:
        return runtime
    if _running:
        return _running[-1]
    return _standalone


@contextmanager
def service_started(runtime: ServiceRuntime) -> Iterator[None]:
    """Make `runtime` current for the block and the fallback while it runs (used by the lifespan)."""
    token = _current.set(runtime)
    _running.append(runtime)
    try:
        yield
    finally:
        _running.remove(runtime)
        try:
            _current.reset(token)
        except ValueError:  # the lifespan ended in another context than it started in
            _current.set(None)


class ServiceContextMiddleware:
    """Make a service's runtime current for each of its requests (plain ASGI: one context-var set)."""

    def __init__(self, app: ASGIApp, *, runtime: ServiceRuntime) -> None:
        """Wrap `app` for `runtime`."""
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with the runtime current."""
        token = _current.set(self.runtime)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


def get_database() -> Datastore:
    """Get the current service's database instance."""
    return current_runtime().require_database()


def set_database(database: Datastore) -> None:
    """Set the current service's database instance."""
    current_runtime().database = database


def get_scheduler() -> JobScheduler:
    """Get the current service's scheduler instance."""
    return current_runtime().require_scheduler()


def set_scheduler(scheduler: JobScheduler) -> None:
    """Set the current service's scheduler instance."""
    current_runtime().scheduler = scheduler


def get_app_manager() -> AppManager:
    """Get the current service's app manager instance."""
    manager = current_runtime().app_manager
    if manager is None:
        raise RuntimeError("AppManager not initialized. Call set_app_manager() during app startup.")
    return manager


def set_app_manager(manager: AppManager) -> None:
    """Set the current service's app manager instance."""
    current_runtime().app_manager = manager


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Get a database session for dependency injection.

    The database is resolved as `get_database()` resolves it (an override of `get_database` in
    `app.dependency_overrides` is honoured) but without declaring `Depends(get_database)`: FastAPI runs
    sync dependencies in a worker thread, a hop that costs CPU on every request. Requests
    other than GET/HEAD/OPTIONS open the session with the intent to write. Only SQL databases have such
    sessions: on memory:// this raises (D11); chapkit's own routers use units of work instead.
    """
    override = request.app.dependency_overrides.get(get_database)
    if override is None:
        db = get_database()
    else:
        resolved = override()
        db = await resolved if inspect.isawaitable(resolved) else resolved
    if is_memory_url(db.url):
        raise RuntimeError("get_session yields an SQL session, and memory:// has none (D11); use an SQL database URL")
    async with db.session(write=writes(request)) as session:
        yield session


__all__ = [
    "READ_ONLY_METHODS",
    "ServiceAppState",
    "ServiceContextMiddleware",
    "ServiceRuntime",
    "current_runtime",
    "get_app_manager",
    "get_database",
    "get_scheduler",
    "get_session",
    "service_started",
    "set_app_manager",
    "set_database",
    "set_scheduler",
    "writes",
]
