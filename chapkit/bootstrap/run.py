"""`run_app`: serve an app with uvicorn, with HOST/PORT/WORKERS/LOG_LEVEL defaults from the environment."""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from chapkit.adapters.observability import configure_logging


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
    and several workers turn reload off. HOST (127.0.0.1), PORT (8000), WORKERS (1) and LOG_LEVEL
    (info) come from the environment when not given.
    """
    configure_logging()
    options = resolve_run_options(app, host=host, port=port, workers=workers, reload=reload, log_level=log_level)
    uvicorn.run(app, log_config=None, **options, **uvicorn_kwargs)


__all__ = ["resolve_run_options", "run_app"]
