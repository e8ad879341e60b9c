"""`chapkit worker module:app`: run a distributed service's queued jobs in this process (D22)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from typing import Annotated, Any

import typer

from chapkit.cli.serve import DatabaseUrl, LogLevel, import_target, use_database


def _load(target: str, factory: bool) -> Any:
    import_target(target)
    module_name, _, attribute = target.partition(":")
    loaded = getattr(importlib.import_module(module_name), attribute)
    return loaded() if factory else loaded


def worker(
    target: Annotated[str, typer.Argument(metavar="APP", help="module:attribute of the service's FastAPI app.")],
    factory: Annotated[bool, typer.Option("--factory", help="APP is a function that builds the app.")] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            envvar="CHAPKIT_WORKER_CONCURRENCY",
            min=1,
            help="Jobs run at once (default: the service's with_jobs(max_concurrency), else 4).",
        ),
    ] = None,
    queue: Annotated[
        list[str] | None,
        typer.Option("--queue", help="Queue to serve, repeatable (default: the service's, CHAPKIT_JOBS_QUEUE)."),
    ] = None,
    graceful_timeout: Annotated[
        float | None,
        typer.Option(
            "--graceful-timeout",
            envvar="CHAPKIT_WORKER_GRACEFUL_TIMEOUT",
            min=0,
            help="Seconds running jobs get to finish on SIGINT/SIGTERM before they are canceled (default: no limit).",
        ),
    ] = None,
    database: DatabaseUrl = None,
    log_level: LogLevel = None,
) -> None:
    """Run the queued jobs of a service built with with_jobs(backend='procrastinate'), until SIGINT/SIGTERM."""
    from chapkit.adapters.observability import configure_logging  # the service stack loads only for the commands
    from chapkit.bootstrap.worker import run_worker  # that run it

    use_database(database)
    if log_level is not None:
        os.environ["LOG_LEVEL"] = log_level.upper()
    configure_logging()  # a worker says what it runs, whether or not the app logs requests
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # procrastinate logs every job with its arguments (a training request carries its data) at INFO;
        # the scheduler logs each job's id, target and outcome instead.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    app = _load(target, factory)
    try:
        asyncio.run(run_worker(app, concurrency=concurrency, queues=queue or None, graceful_timeout=graceful_timeout))
    except ValueError as exc:
        typer.echo(f"chapkit worker: {exc}", err=True)
        raise typer.Exit(2) from exc


__all__ = ["worker"]
