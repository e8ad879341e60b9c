"""`run_app`: serve an app with uvicorn, with HOST/PORT/WORKERS/LOG_LEVEL defaults from the environment."""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from chapkit.adapters.http.middleware import RequestLoggingMiddleware
from chapkit.adapters.observability import configure_logging

WORKERS_NEED_AN_IMPORT_STRING = (
    "WORKERS={workers} starts {workers} processes, and each must import the app: pass it as an import "
    "string, run_app('package.module:app'), or a factory with run_app('package.module:build', factory=True)"
)


def logs_requests(app: Any) -> bool:
    """Whether `app` writes chapkit's own line per request (built `with_logging()`)."""
    middleware = getattr(app, "user_middleware", None) or []
    return any(getattr(entry, "cls", None) is RequestLoggingMiddleware for entry in middleware)


def resolve_run_options(
    app: Any,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    reload: bool | None = None,
    log_level: str | None = None,
) -> dict[str, Any]:
    """Return the uvicorn options `run_app` would use: arguments, else environment, else defaults."""
    resolved_workers = workers if workers is not None else int(os.getenv("WORKERS", "1"))
    # Reload re-imports the app, which only works from a "module:app" string (uvicorn exits otherwise).
    reload = isinstance(app, str) and (reload is None or reload)
    if resolved_workers > 1:
        reload = False  # uvicorn cannot reload several worker processes
    return {
        "host": host if host is not None else os.getenv("HOST", "127.0.0.1"),
        "port": port if port is not None else int(os.getenv("PORT", "8000")),
        "workers": resolved_workers,
        "reload": reload,
        "log_level": (log_level if log_level is not None else os.getenv("LOG_LEVEL", "info")).lower(),
    }


def run_app(
    app: Any | str,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    reload: bool | None = None,
    log_level: str | None = None,
    **uvicorn_kwargs: Any,
) -> None:
    """Run FastAPI app with Uvicorn development server.

    Pass a "module:app" string for reload (on by default then); an app instance runs without reload,
    and several workers turn reload off (several workers need an import string: each process imports
    the app). HOST (127.0.0.1), PORT (8000), WORKERS (1) and LOG_LEVEL (info) come from the environment
    when not given. An app built `with_logging()` logs each request once, so uvicorn's access log is off.
    """
    configure_logging(access_log=not logs_requests(app))
    options = resolve_run_options(app, host=host, port=port, workers=workers, reload=reload, log_level=log_level)
    if options["workers"] > 1 and not isinstance(app, str):
        raise ValueError(WORKERS_NEED_AN_IMPORT_STRING.format(workers=options["workers"]))
    if logs_requests(app):  # one line per request, in one format: uvicorn's access line would repeat ours
        uvicorn_kwargs.setdefault("access_log", False)
    uvicorn.run(app, log_config=None, **options, **uvicorn_kwargs)


__all__ = ["logs_requests", "resolve_run_options", "run_app"]
