"""Structured logging with structlog: console or JSON output, request context carried in context vars."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog
import structlog._frames
from structlog.typing import EventDict, Processor

_PROCESSORS: list[Processor] = []
"""The processors of every logger chapkit configures: one list, refilled by each `configure_logging`."""
_THIRD_PARTY_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "gunicorn.access", "gunicorn.error")
_ACCESS_LOGGERS = frozenset({"uvicorn.access", "gunicorn.access"})
_SET_UP_LOGGERS = ("alembic.runtime.plugins",)
"""Libraries' loggers that describe their own set-up at INFO (alembic's plugins: ten lines at every start
that migrates): shown at DEBUG, quiet at any other level."""


def configure_logging(*, access_log: bool = True) -> None:
    """Configure structlog and route standard library logging through it.

    `LOG_FORMAT` is `console` (default) or `json`; `LOG_LEVEL` a standard level name (default INFO).
    Calling it again reconfigures; it never adds a second handler. `access_log=False` is for an app that
    logs each request itself (`with_logging()`): the servers' access loggers (uvicorn's, gunicorn's) get
    no handler then, so each request is logged once, whichever way the app is served. Alembic's lines
    about setting up its own plugins appear at `DEBUG` only (its migrations' lines stay at INFO).
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

    # Loggers cached on first use keep the list they were made with: chapkit's one list, filled in
    # place, so a reconfiguration (each app start calls this) reaches them all. Only this list is
    # changed in place, never one structlog or another configuration owns.
    _PROCESSORS[:] = [
        *shared,
        structlog.stdlib.add_logger_name,
        add_callsite,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ]
    structlog.configure(
        processors=_PROCESSORS,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        context_class=dict,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        _Formatter(
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
    for name in _SET_UP_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))


class _Formatter(structlog.stdlib.ProcessorFormatter):
    """structlog's `ProcessorFormatter`, rendering structlog's own lines without copying their record.

    A line logged through structlog carries its event dict (and no exception info: that is in the
    dict) as the record's message: it is rendered by the processors straight from a copy of the dict,
    which is what the base class returns for it after copying the whole record first. Other records
    take the base class's path.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The rendered line of `record`."""
        logger = getattr(record, "_logger", None)
        if logger is None or not isinstance(record.msg, dict) or record.exc_info or record.stack_info:
            return super().format(record)
        method_name: str = getattr(record, "_name", record.levelname.lower())
        event_dict: Any = {**record.msg, "_record": record, "_from_structlog": True}
        for processor in self.processors:
            event_dict = processor(self.logger if self.logger is not None else logger, method_name, event_dict)
        if not isinstance(event_dict, str):
            raise ValueError("The last processor of a ProcessorFormatter must render the event dict to a string.")
        return event_dict


_IGNORED_MODULES = ("structlog", "logging", __name__)
"""Frames of these modules are not the call site of a log line (structlog's own ignores, plus this module)."""
_ignored_code: dict[Any, bool] = {}
"""Whether a code object's module is ignored, by code object: one dict look-up per frame after the first line."""
_async_calling_stack = getattr(structlog._frames, "_ASYNC_CALLING_STACK", None)
"""structlog's record of the caller of its `a*` (async) log methods, whose processors run in a thread."""


def add_callsite(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add `filename`, `lineno` and `func_name` of the line's call site, as structlog's `CallsiteParameterAdder` does.

    The same values, found by the same walk out of structlog and logging frames, with each frame's
    module checked once per code object instead of by name on every line. A standard-library
    record (a foreign line) gives its own call site.
    """
    record: logging.LogRecord | None = event_dict.get("_record")
    if record is not None and not event_dict.get("_from_structlog", False):
        event_dict["filename"] = record.filename
        event_dict["lineno"] = record.lineno
        event_dict["func_name"] = record.funcName
        return event_dict
    frame: Any = sys._getframe(1)
    if _async_calling_stack is not None:
        frame = _async_calling_stack.get(frame)
    while frame.f_back is not None:
        code = frame.f_code
        ignored = _ignored_code.get(code)
        if ignored is None:
            ignored = _ignored_code[code] = (frame.f_globals.get("__name__") or "?").startswith(_IGNORED_MODULES)
        if not ignored:
            break
        frame = frame.f_back
    event_dict["filename"] = os.path.basename(frame.f_code.co_filename)
    event_dict["lineno"] = frame.f_lineno
    event_dict["func_name"] = frame.f_code.co_name
    return event_dict


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
