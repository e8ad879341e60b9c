"""`chapkit serve` and `chapkit demo`: run an app (or the demo model service) with `chapkit.run_app`."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated

import typer

from chapkit.demo import MAIN_JOB

Host = Annotated[str | None, typer.Option("--host", envvar="HOST", help="Interface to bind (default 127.0.0.1).")]
Port = Annotated[int | None, typer.Option("--port", envvar="PORT", help="Port to listen on (default 8000).")]
Workers = Annotated[
    int | None, typer.Option("--workers", envvar="WORKERS", min=1, help="Worker processes (default 1).")
]
Reload = Annotated[bool, typer.Option("--reload", help="Restart when the code changes (one worker only).")]
LogLevel = Annotated[
    str | None, typer.Option("--log-level", envvar="LOG_LEVEL", help="debug, info, warning or error (default info).")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar=["CHAPKIT_DATABASE_URL", "DATABASE_URL"],
        help="Database URL, e.g. sqlite+aiosqlite:///service.db (default: the app's own).",
    ),
]
Register = Annotated[
    str | None,
    typer.Option(
        "--register",
        metavar="URL",
        help=(
            "Register with a CHAP orchestrator at this register URL, e.g. http://chap:8000/v2/services/$register "
            "(sets SERVICEKIT_ORCHESTRATOR_URL; SERVICEKIT_HOST, SERVICEKIT_PORT and SERVICEKIT_REGISTRATION_KEY "
            "are read too)."
        ),
    ),
]


def use_database(database: str | None) -> None:
    """Give `--database` to the app through the environment, before its module is imported.

    A module-level app reads its URL when imported, and so does every worker process uvicorn starts.
    """
    if database is not None:
        os.environ["CHAPKIT_DATABASE_URL"] = database
        os.environ["DATABASE_URL"] = database


def use_registration(register_url: str | None) -> None:
    """Give `--register` to the app through the environment, before its module is imported (every worker reads it)."""
    if register_url is not None:
        os.environ["SERVICEKIT_ORCHESTRATOR_URL"] = register_url


def import_target(target: str) -> None:
    """Import the module of a `module:attribute` target, or exit with code 2 and a message naming it."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise typer.BadParameter(f"{target!r} is not of the form module:attribute (e.g. service:app)", param_hint="APP")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as uvicorn does: a module in the working directory is found
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # not found, or the module itself fails: one line naming it, not a traceback
        reason = f"{type(exc).__name__}: {exc}"
        raise typer.BadParameter(f"cannot import module {module_name!r}: {reason}", param_hint="APP") from exc
    if not hasattr(module, attribute):
        raise typer.BadParameter(f"module {module_name!r} has no attribute {attribute!r}", param_hint="APP")


def run_target(
    target: object,
    *,
    factory: bool = False,
    host: str | None,
    port: int | None,
    workers: int | None = None,
    reload: bool = False,
    log_level: str | None,
) -> None:
    """Serve `target` (a FastAPI app, or a `module:attribute` string) with `run_app` until stopped."""
    from chapkit import run_app  # the service stack loads only for the commands that serve

    # An app built `with_logging()` turns uvicorn's access line off when it starts (one line per request);
    # any other app keeps uvicorn's line, its only one.
    run_app(target, factory=factory, host=host, port=port, workers=workers, reload=reload, log_level=log_level)


def serve(
    target: Annotated[
        str | None,
        typer.Argument(metavar="[APP]", help="module:attribute of a FastAPI app (or factory); default: the demo."),
    ] = None,
    factory: Annotated[bool, typer.Option("--factory", help="APP is a function that builds the app.")] = False,
    host: Host = None,
    port: Port = None,
    workers: Workers = None,
    reload: Reload = False,
    log_level: LogLevel = None,
    database: DatabaseUrl = None,
    register: Register = None,
) -> None:
    """Serve a chapkit app, or the demo model service when no app is given."""
    use_database(database)
    use_registration(register)
    if target is None:
        target, factory = MAIN_JOB, True
    else:
        import_target(target)
    run_target(
        target,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=log_level,
    )


def demo(
    host: Host = None,
    port: Port = None,
    workers: Workers = None,
    reload: Reload = False,
    log_level: LogLevel = None,
    database: DatabaseUrl = None,
    register: Register = None,
) -> None:
    """Serve the demo model service on an SQLite file in the working directory (or --database)."""
    serve(
        None,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=log_level,
        database=database,
        register=register,
    )


__all__ = ["MAIN_JOB", "demo", "import_target", "run_target", "serve", "use_registration"]
