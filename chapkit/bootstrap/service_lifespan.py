"""The lifespan of one built service: its container, scheduler and hooks, started and stopped in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from chapkit.adapters.http.health import HealthCheck, HealthState
from chapkit.adapters.memory import InMemoryJobRecordStore
from chapkit.adapters.observability import configure_logging, get_logger
from chapkit.adapters.scheduler import AIOJobScheduler
from chapkit.adapters.sql import Database, SqlJobRecordStore
from chapkit.bootstrap.containers import create_container, is_memory_url, start, stop
from chapkit.bootstrap.dependencies import ServiceRuntime, service_started
from chapkit.bootstrap.service_options import LifecycleHook
from chapkit.domain.ports import Datastore
from chapkit.domain.ports.job_store import JobRecordStore

logger = get_logger(__name__)

LifespanFactory = Callable[[FastAPI], Any]


@dataclass(slots=True)
class ServiceState:
    """What one `build()` created; the lifespan and the routers share it, nothing else does."""

    runtime: ServiceRuntime
    startup_hooks: list[LifecycleHook] = field(default_factory=list)
    shutdown_hooks: list[LifecycleHook] = field(default_factory=list)


@dataclass(slots=True)
class LifespanPlan:
    """Everything the lifespan needs, captured when the app is built."""

    state: ServiceState
    database_url: str
    database_instance: Datastore | None
    pool_options: dict[str, Any]
    max_concurrency: int | None
    with_jobs: bool
    include_logging: bool
    auth: tuple[str, int] | None
    create_scheduler: Callable[[Datastore, int | None], AIOJobScheduler]


def database_health_check(runtime: ServiceRuntime) -> HealthCheck:
    """A health check that pings the service's database."""

    async def check_database() -> tuple[HealthState, str | None]:
        try:
            await runtime.require_database().ping()
        except Exception as error:
            # The class name only: messages may carry SQL, URLs or paths (D18); the log has the rest.
            logger.warning("health.database.failed", error_class=type(error).__name__, exc_info=error)
            return HealthState.UNHEALTHY, f"Database connection failed: {type(error).__name__}"
        return HealthState.HEALTHY, None

    return check_database


def create_scheduler(database: Datastore, max_concurrency: int | None) -> AIOJobScheduler:
    """Build one service's scheduler; on SQL its records live in the service's database (D16)."""
    store: JobRecordStore = SqlJobRecordStore(database) if isinstance(database, Database) else InMemoryJobRecordStore()
    return AIOJobScheduler(max_concurrency=max_concurrency, store=store)


def build_lifespan(plan: LifespanPlan) -> LifespanFactory:
    """Return the lifespan of one service: start storage and scheduler, run hooks, stop in reverse."""
    runtime = plan.state.runtime

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if plan.include_logging:
            configure_logging()
        container = None
        if plan.database_instance is not None:
            await plan.database_instance.init()
            database = plan.database_instance
        else:
            # One container per started app: two apps share no engine, pool or memory store.
            options = {} if is_memory_url(plan.database_url) else plan.pool_options
            container = create_container(plan.database_url, **options)
            await start(container)
            database = await container.storage.database()
        scheduler: AIOJobScheduler | None = None
        try:
            runtime.database = database
            app.state.database = database
            if plan.with_jobs:
                scheduler = plan.create_scheduler(database, plan.max_concurrency)
                runtime.scheduler = scheduler
                app.state.scheduler = scheduler
            if plan.auth is not None:
                log_auth_source(*plan.auth)
            with service_started(runtime):
                for hook in plan.state.startup_hooks:
                    await hook(app)
                try:
                    yield
                finally:
                    for hook in plan.state.shutdown_hooks:
                        await hook(app)
        finally:
            if scheduler is not None:
                await scheduler.shutdown()
            runtime.scheduler = None
            runtime.database = None
            app.state.database = None
            if container is not None:
                await stop(container)

    return lifespan


def log_auth_source(source: str, count: int) -> None:
    """Say where the keys came from (never the keys)."""
    kind, _, where = source.partition(":")
    if kind == "direct_keys":
        logger.warning(
            "auth.direct_keys",
            message="Using direct API keys - not recommended for production",
            count=count,
        )
    elif kind == "file":
        logger.info("auth.loaded_from_file", file=where, count=count)
    else:
        logger.info("auth.loaded_from_env", env_var=where, count=count)


__all__ = [
    "LifespanFactory",
    "LifespanPlan",
    "ServiceState",
    "build_lifespan",
    "create_scheduler",
    "database_health_check",
    "log_auth_source",
]
