"""The lifespan of one built service: its container, scheduler and hooks, started and stopped in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from chapkit.adapters.http.health import HealthCheck, HealthState
from chapkit.adapters.observability import configure_logging, get_logger
from chapkit.adapters.runners.workdirs import remove_abandoned_workspaces
from chapkit.bootstrap.containers import ServiceContainer, create_container, is_memory_url, stop
from chapkit.bootstrap.dependencies import ServiceRuntime, service_started
from chapkit.bootstrap.jobs_backend import JobsSettings
from chapkit.bootstrap.registration import Registration, registered
from chapkit.bootstrap.service_options import JobOptions, LifecycleHook
from chapkit.domain.ports import Datastore, JobScheduler

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
    jobs: JobOptions | None
    include_logging: bool
    auth: tuple[str, int] | None
    registration: Registration | None = None
    info_warnings: list[str] = field(default_factory=list)


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


def jobs_settings(options: JobOptions | None) -> JobsSettings | None:
    """The scheduler settings of `with_jobs(...)`, the environment filling in what it left open (None: no jobs)."""
    if options is None:
        return None
    return JobsSettings.resolve(
        options.backend,
        options.queue,
        heartbeat_interval=options.heartbeat_interval,
        stale_after=options.stale_after,
        record_ttl=options.record_ttl,
    )


def service_container(plan: LifespanPlan) -> ServiceContainer:
    """One container per started app: two apps share no engine, pool, memory store or scheduler.

    A given `Database` instance replaces the container's datastore provider: it is `init()`ed here and
    not disposed at shutdown, since its owner made it.
    """
    instance = plan.database_instance
    jobs = jobs_settings(plan.jobs)
    if instance is not None:
        return create_container(datastore=instance, jobs=jobs)
    options = {} if is_memory_url(plan.database_url) else plan.pool_options
    return create_container(plan.database_url, jobs=jobs, **options)


def build_lifespan(plan: LifespanPlan) -> LifespanFactory:
    """Return the lifespan of one service: start storage and scheduler, run hooks, stop in reverse."""
    runtime = plan.state.runtime

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if plan.include_logging:
            configure_logging()
        container = service_container(plan)
        try:
            # Resources start on first use: the scheduler only when jobs are on. Stopping the container
            # shuts down what started, the scheduler (last records written) before the datastore.
            await container.storage.database()
            # Model runs of a process killed outright left their working directories: theirs only go.
            await asyncio.to_thread(remove_abandoned_workspaces)
            scheduler: JobScheduler | None = None
            if plan.jobs is not None:
                scheduler = await container.storage.scheduler()
                assert scheduler is not None
                scheduler.provide(runtime.job_instances)
                if plan.max_concurrency is not None:
                    await scheduler.set_max_concurrency(plan.max_concurrency)
            # The runtime is the one place the service's storage is reached from (`app.state.database`
            # and `get_database()` read it): its container builds units of work and managers.
            runtime.container = container
            runtime.scheduler = scheduler
            if plan.auth is not None:
                log_auth_source(*plan.auth)
            for warning in plan.info_warnings:
                logger.warning("info.chap_core", message=warning)
            with service_started(runtime):
                for hook in plan.state.startup_hooks:
                    await hook(app)
                try:
                    # Registered after the start-up hooks (the service is complete), deregistered first.
                    async with registered(plan.registration, auth_on=plan.auth is not None):
                        yield
                finally:
                    for hook in plan.state.shutdown_hooks:
                        await hook(app)
        finally:
            runtime.scheduler = None
            runtime.container = None
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
    "service_container",
    "database_health_check",
    "jobs_settings",
    "log_auth_source",
]
