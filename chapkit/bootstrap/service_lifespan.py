"""The lifespan of one built service: its container, scheduler and hooks, started and stopped in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fastapi import FastAPI

from chapkit.adapters.http.allocator import release_heap, settle_heap
from chapkit.adapters.http.health import HealthCheck, HealthState
from chapkit.adapters.http.registration import Registration, registered
from chapkit.adapters.observability import configure_logging, get_logger
from chapkit.bootstrap.containers import started
from chapkit.bootstrap.dependencies import ServiceRuntime, service_started
from chapkit.bootstrap.service_options import LifecycleHook

logger = get_logger(__name__)

LifespanFactory = Callable[[FastAPI], Any]


@dataclass(slots=True)
class ServiceState:
    """What one `build()` created; the lifespan and the routers share it, nothing else does."""

    runtime: ServiceRuntime
    startup_hooks: list[LifecycleHook] = field(default_factory=list)
    shutdown_hooks: list[LifecycleHook] = field(default_factory=list)
    include_logging: bool = False
    auth: tuple[str, int] | None = None
    """Where the API keys came from and how many (logged at start, never the keys)."""
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


@asynccontextmanager
async def running(state: ServiceState, app: FastAPI, *, register: bool = True) -> AsyncIterator[None]:
    """Run one service for the block: start its container (`started`), run its hooks, stop in reverse.

    The FastAPI lifespan runs it with `register=True`; a worker without, since it serves no HTTP.
    """
    runtime = state.runtime
    if state.include_logging:
        # The app logs each request (RequestLoggingMiddleware): the server's access line would repeat it. This
        # runs in every serving process (uvicorn's workers, `python -m chapkit`, `chapkit serve`, `run_app`).
        configure_logging(access_log=False)
    try:
        async with started(runtime.spec) as (container, services):
            # The runtime is the one place the service is reached from (`app.state.database`, the `get_*`
            # dependencies): one container per started app, two apps share nothing.
            runtime.started(container, services)
            if state.auth is not None:
                log_auth_source(*state.auth)
            for warning in state.info_warnings:
                logger.warning("info.chap_core", message=warning)
            with service_started(runtime):
                for hook in state.startup_hooks:
                    await hook(app)
                settle_heap()
                try:
                    # Registered after the start-up hooks (the service is complete), deregistered first.
                    async with registered(state.registration if register else None, auth_on=state.auth is not None):
                        yield
                finally:
                    for hook in state.shutdown_hooks:
                        await hook(app)
    finally:
        runtime.started(None, None)
        release_heap()


def build_lifespan(state: ServiceState) -> LifespanFactory:
    """Return the FastAPI lifespan of one service: `running(state, app)`."""
    return partial(running, state)


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
    "ServiceState",
    "build_lifespan",
    "database_health_check",
    "log_auth_source",
    "running",
]
