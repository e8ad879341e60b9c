"""Structured logging with structlog: console or JSON output, request context carried in context vars."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog
from structlog.typing import Processor

_THIRD_PARTY_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "gunicorn.access", "gunicorn.error")
_ACCESS_LOGGERS = frozenset({"uvicorn.access", "gunicorn.access"})


def configure_logging(*, access_log: bool = True) -> None:
    """Configure structlog and route standard library logging through it.

    `LOG_FORMAT` is `console` (default) or `json`; `LOG_LEVEL` a standard level name (default INFO).
    Calling it again reconfigures; it never adds a second handler. `access_log=False` is for an app that
    logs each request itself (`with_logging()`): the servers' access loggers (uvicorn's, gunicorn's) get
    no handler then, so each request is logged once, whichever way the app is served.
    """
    log_format = os.getenv("LOG_FORMAT", "console").lower()
    level_name = os.getenv("LOG_LEVEL", "INFO").upper()
    level = logging.getLevelNamesMapping().get(level_name, logging.INFO)

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: list[Processor]
    if log_format == "json":
        renderer = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        renderer = [structlog.processors.ExceptionRenderer(), structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())]

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.processors.CallsiteParameterAdder(
                [
                    structlog.processors.CallsiteParameter.FILENAME,
                    structlog.processors.CallsiteParameter.LINENO,
                    structlog.processors.CallsiteParameter.FUNC_NAME,
                ]
            ),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        context_class=dict,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    root = logging.getLogger()
    root.handlers.clear()
    root.addHandler(handler)
    root.setLevel(level)
    for name in _THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        if access_log or name not in _ACCESS_LOGGERS:
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


def get_logger(name: str | None = None) -> Any:
    """Get a configured structlog logger instance."""
    return structlog.get_logger(name)


def add_request_context(**context: Any) -> None:
    """Add context variables that will be included in all log messages."""
    structlog.contextvars.bind_contextvars(**context)


def clear_request_context(*keys: str) -> None:
    """Clear specific context variables."""
    structlog.contextvars.unbind_contextvars(*keys)


def reset_request_context() -> None:
    """Clear all context variables."""
    structlog.contextvars.clear_contextvars()


__all__ = [
    "add_request_context",
    "clear_request_context",
    "configure_logging",
    "get_logger",
    "reset_request_context",
]
