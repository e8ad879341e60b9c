"""FastAPI dependencies that resolve the *running* service (D6), and the per-service runtime they read.

Every built app owns a `ServiceRuntime` (its started container, scheduler, app registry). The runtime is made
current in a context variable for the lifespan (so `on_startup` hooks see it) and for every request
(by a `ContextValueMiddleware` on `current_service`). Outside both, the most recently started service still running is
used, so `get_database()` works in plain code too; two services never see each other's objects.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import State

from chapkit.adapters.http.app import AppManager
from chapkit.adapters.http.direct_route import request_scoped
from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.application.manager import BaseManager
from chapkit.application.ml_manager import MLManager
from chapkit.application.services import Services
from chapkit.application.task_manager import TaskManager
from chapkit.bootstrap.containers import (
    ServiceContainer,
    ServiceSpec,
    build_container,
    datastore_of,
    entity_manager_on,
    is_memory_url,
    use_datastore,
)
from chapkit.domain.config import BaseConfig
from chapkit.domain.ports import Datastore, JobScheduler, UnitOfWork

T = TypeVar("T")

ML_NOT_CONFIGURED = "ML manager dependency not configured. Use ServiceBuilder.with_ml() to enable ML operations."

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Requests with these methods get read units of work; every other method declares that it writes."""


def writes(request: Request) -> bool:
    """Whether a request's unit of work declares the intent to write (its method is not read-only)."""
    return request.method not in READ_ONLY_METHODS


class ServiceRuntime:
    """What one running service owns: its spec, started container and services, scheduler and apps."""

    def __init__(self, name: str = "", spec: ServiceSpec | None = None) -> None:
        """A runtime for the service `spec` describes (nothing started yet)."""
        self.name = name
        self.spec = spec or ServiceSpec()
        self.container: ServiceContainer | None = None
        self.services: Services | None = None
        self.scheduler: JobScheduler | None = None
        self.app_manager: AppManager | None = None
        self._datastore: Datastore | None = None
        """The container's datastore, read once when it is set rather than from the container per request."""

    def started(self, container: ServiceContainer | None, services: Services | None) -> None:
        """Serve from a started container and its services (None: stopped)."""
        self.container = container
        self.services = services
        self.scheduler = None if container is None else container.scheduler()
        self._datastore = None if container is None else datastore_of(container)

    @property
    def database(self) -> Datastore | None:
        """The datastore the container's units of work use, or None before the service starts."""
        return self._datastore

    @database.setter
    def database(self, database: Datastore | None) -> None:
        """Make the service's units of work use `database` (None: forget the container)."""
        if database is None:
            self.started(None, None)
        elif self.container is None:
            # `set_database` outside a running service: the spec's services on that datastore, no jobs.
            container = build_container(replace(self.spec, datastore=database, database_options={}, jobs=None))
            self.container, self.services = container, container.services()
            self._datastore = datastore_of(container)
        else:
            use_datastore(self.container, database)
            self._datastore = datastore_of(self.container)

    def require_services(self) -> Services:
        """Return the services, or raise when the service has not started."""
        if self.services is None:
            raise RuntimeError("Database not initialized. Call set_database() during app startup.")
        return self.services

    def require_database(self) -> Datastore:
        """Return the database, or raise when the service has not started."""
        if self._datastore is None:
            raise RuntimeError("Database not initialized. Call set_database() during app startup.")
        return self._datastore

    def require_scheduler(self) -> JobScheduler:
        """Return the scheduler, or raise when the service has none."""
        if self.scheduler is None:
            raise RuntimeError("Scheduler not initialized. Call set_scheduler() during app startup.")
        return self.scheduler

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        """Return a new unit of work on the service's datastore (`async with` it)."""
        return self.require_database().unit_of_work(write=write)


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


current_service: ContextVar[ServiceRuntime | None] = ContextVar("chapkit_current_service", default=None)
"""The service of the request or lifespan being run (set by the lifespan and each request's middleware)."""
_running: list[ServiceRuntime] = []
"""Started services, most recent last: the fallback outside a lifespan or request (D6)."""
_standalone = ServiceRuntime("standalone")
"""Where the setters write when no service is current (plain scripts and tests)."""


def current_runtime() -> ServiceRuntime:
    """Return the current service's runtime: context variable, else most recently started, else standalone."""
    runtime = current_service.get()
    if runtime is not None:
        return runtime
    if _running:
        return _running[-1]
    return _standalone


@contextmanager
def service_started(runtime: ServiceRuntime) -> Iterator[None]:
    """Make `runtime` current for the block and the fallback while it runs (used by the lifespan)."""
    token = current_service.set(runtime)
    _running.append(runtime)
    try:
        yield
    finally:
        _running.remove(runtime)
        try:
            current_service.reset(token)
        except ValueError:  # the lifespan ended in another context than it started in
            current_service.set(None)


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


async def current_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work of the current service (D6) for the request, closed after it."""
    async with current_runtime().unit_of_work(write=writes(request)) as uow:
        yield uow


async def get_config_manager(uow: Annotated[UnitOfWork, Depends(current_unit_of_work)]) -> ConfigManager[BaseConfig]:
    """Get a config manager instance for dependency injection.

    A service built with `with_config(schema)` answers with a manager bound to its schema.
    """
    return current_runtime().require_services().configs.manager(uow)


async def get_artifact_manager(uow: Annotated[UnitOfWork, Depends(current_unit_of_work)]) -> ArtifactManager:
    """Get an artifact manager instance for dependency injection.

    A service built with `with_artifacts(hierarchy=...)` answers with a manager bound to its hierarchy.
    """
    return current_runtime().require_services().artifacts.manager(uow)


async def get_task_manager(uow: Annotated[UnitOfWork, Depends(current_unit_of_work)]) -> TaskManager:
    """Get a task manager instance for dependency injection.

    It belongs to the current service (D6): its scheduler (None without jobs), its artifact hierarchy
    and its task registry.
    """
    return current_runtime().require_services().tasks.manager(uow)


async def get_ml_manager() -> MLManager:
    """Get an ML manager instance for dependency injection (the current service's, D6).

    Raises `RuntimeError` when the current service was built without `with_ml()`.
    """
    services = current_runtime().services
    ml = None if services is None else services.ml
    if ml is None:
        raise RuntimeError(ML_NOT_CONFIGURED)
    return ml.manager


async def current_scheduler() -> JobScheduler:
    """The current service's scheduler, as an async dependency (no thread hop)."""
    return current_runtime().require_scheduler()


_REQUEST_UNIT = "chapkit.unit_of_work"
"""Key of the request's unit of work in the ASGI scope (one unit per request, shared by its dependencies)."""
_REQUEST_EXIT_STACK = "fastapi_inner_astack"
"""FastAPI's per-request exit stack: what closes its dependencies with `yield`, after the response is sent."""


async def request_unit_of_work(request: Request) -> UnitOfWork:
    """The request's unit of work, as `current_unit_of_work` gives it, opened without a generator dependency.

    FastAPI runs a dependency with `yield` inside two context managers and a cancel scope of its
    own: on a simple read that was as much CPU as the read. This one opens the unit on the request's
    first call and hands its closing to the exit stack FastAPI closes those dependencies with, at the
    same point (after the response) and with the same exception; later calls in the request share it.
    """
    scope = request.scope
    uow: UnitOfWork | None = scope.get(_REQUEST_UNIT)
    if uow is not None:
        return uow
    stack: AsyncExitStack | None = scope.get(_REQUEST_EXIT_STACK)
    if stack is None:
        raise RuntimeError("request_unit_of_work serves FastAPI routes only (no request exit stack found)")
    uow = await stack.enter_async_context(current_runtime().unit_of_work(write=writes(request)))
    scope[_REQUEST_UNIT] = uow
    stack.callback(scope.pop, _REQUEST_UNIT, None)
    return uow


@request_scoped
async def builtin_config_manager(request: Request) -> ConfigManager[BaseConfig]:
    """`get_config_manager` for chapkit's own routes, on `request_unit_of_work` (overrides do not reach it).

    It needs only the request (`request_scoped`), so routes that read only their path call it themselves.
    """
    return current_runtime().require_services().configs.manager(await request_unit_of_work(request))


@request_scoped
async def builtin_artifact_manager(request: Request) -> ArtifactManager:
    """`get_artifact_manager` for chapkit's own routes, on `request_unit_of_work` (overrides do not reach it)."""
    return current_runtime().require_services().artifacts.manager(await request_unit_of_work(request))


@request_scoped
async def builtin_task_manager(request: Request) -> TaskManager:
    """`get_task_manager` for chapkit's own routes, on `request_unit_of_work` (overrides do not reach it)."""
    return current_runtime().require_services().tasks.manager(await request_unit_of_work(request))


@request_scoped
async def builtin_ml_manager(request: Request) -> MLManager:
    """`get_ml_manager` for chapkit's own ML routes; `$train` and `$predict` call it themselves (`request_scoped`).

    As in the reference, overriding the public dependency (`override_dependency(get_ml_manager, ...)`)
    reaches the service's custom routers only, never the built-in routes: FastAPI keys overrides by the
    function, and this is another function.
    """
    return await get_ml_manager()


def manager_dependency(
    model: type[Any], out_schema: type[Any]
) -> Callable[..., Coroutine[Any, Any, BaseManager[Any, Any, Any, Any]]]:
    """A dependency giving a `BaseManager` for your own entity `model`, on the current service's storage.

    It works on every storage, `memory://` included: `CrudRouter(manager_factory=manager_dependency(...))`.
    """

    async def dependency(uow: Annotated[UnitOfWork, Depends(current_unit_of_work)]) -> BaseManager[Any, Any, Any, Any]:
        return entity_manager_on(uow, model, out_schema)

    return dependency


__all__ = [
    "ML_NOT_CONFIGURED",
    "READ_ONLY_METHODS",
    "current_scheduler",
    "builtin_artifact_manager",
    "builtin_config_manager",
    "builtin_task_manager",
    "request_unit_of_work",
    "current_unit_of_work",
    "get_artifact_manager",
    "get_config_manager",
    "get_ml_manager",
    "get_task_manager",
    "manager_dependency",
    "ServiceAppState",
    "ServiceRuntime",
    "current_runtime",
    "current_service",
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
