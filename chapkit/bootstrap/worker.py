"""Worker processes of a distributed service (D22): the service started without HTTP, running queued jobs."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI

from chapkit.bootstrap.service_lifespan import ServiceState, running
from chapkit.domain.ports.scheduler import NO_QUEUE


async def run_worker(
    app: FastAPI,
    *,
    concurrency: int | None = None,
    queues: Iterable[str] | None = None,
    graceful_timeout: float | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """Start `app`'s service (storage, scheduler, start-up hooks; no HTTP, no registration) and run its queued jobs.

    The worker has the service's own registries: its model runner, task registry and managers, so a job
    runs as it would have in the API process. SIGINT or SIGTERM stops it: running jobs get
    `graceful_timeout` seconds (None: as long as they need), then are canceled. `ValueError` when the
    service does not run jobs on the distributed backend.
    """
    state: ServiceState | None = getattr(app.state, "service_state", None)
    if state is None:
        raise ValueError("Not a chapkit service: build the app with ServiceBuilder (or a builder of chapkit)")
    async with running(state, app, register=False):
        scheduler = state.runtime.scheduler
        if scheduler is None:
            raise ValueError(NO_QUEUE)
        await scheduler.run_worker(
            concurrency=concurrency,
            queues=queues,
            graceful_timeout=graceful_timeout,
            install_signal_handlers=install_signal_handlers,
        )


__all__ = ["run_worker"]
