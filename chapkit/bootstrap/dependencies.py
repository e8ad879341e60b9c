"""FastAPI dependencies that resolve the *running* service (D6), and the per-service runtime they read.

Every built app owns a `ServiceRuntime` (database, scheduler, app registry). The runtime is made
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
from starlette.types import ASGIApp, Receive, Scope, Send

from chapkit.adapters.http.app import AppManager
from chapkit.adapters.memory import InMemoryDatastore
from chapkit.domain.ports import Datastore, JobScheduler


class ServiceRuntime:
    """What one running service owns; the builder's lifespan fills it in."""

    def __init__(self, name: str = "") -> None:
        """Create an empty runtime (nothing started yet)."""
        self.name = name
        self.database: Datastore | None = None
        self.scheduler: JobScheduler | None = None
        self.app_manager: AppManager | None = None

    def require_database(self) -> Datastore:
        """Return the database, or raise when the service has not started."""
        if self.database is None:
            raise RuntimeError("Database not initialized. Call set_database() during app startup.")
        return self.database

    def require_scheduler(self) -> JobScheduler:
        """Return the scheduler, or raise when the service has none."""
        if self.scheduler is None:
            raise RuntimeError("Scheduler not initialized. Call set_scheduler() during app startup.")
        return self.scheduler

    # Bound, async dependencies for the service's own routers: no thread hop, no context lookup.

    async def database_dependency(self) -> Datastore:
        """FastAPI dependency: this service's database."""
        return self.require_database()

    async def scheduler_dependency(self) -> JobScheduler:
        """FastAPI dependency: this service's scheduler."""
        return self.require_scheduler()

    async def session_dependency(self) -> AsyncIterator[Any]:
        """FastAPI dependency: a session (unit of work) of this service's database, closed after the request."""
        async with self.require_database().session() as session:
            yield session


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
    sync dependencies in a worker thread, a hop that cost about 0.2 ms of CPU on every request.
    """
    override = request.app.dependency_overrides.get(get_database)
    if override is None:
        db = get_database()
    else:
        resolved = override()
        db = await resolved if inspect.isawaitable(resolved) else resolved
    if isinstance(db, InMemoryDatastore):
        raise RuntimeError("get_session yields an SQL session, and memory:// has none (D11); use an SQL database URL")
    async with db.session() as session:
        yield session


__all__ = [
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
]
