"""Request logging: an id per request in `X-Request-ID`, request context bound in every log line."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ulid import ULID

from chapkit.adapters.observability import get_logger

T = TypeVar("T")

logger = get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"


class RequestLoggingMiddleware:
    """Middleware for logging HTTP requests with unique request IDs and context binding.

    A plain ASGI middleware (no extra task or stream per request, unlike `BaseHTTPMiddleware`) that
    writes one log line per request, when it completes or fails.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id bound to the log context and set on the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(ULID())
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        tokens = structlog.contextvars.bind_contextvars(
            request_id=request_id,
            method=scope["method"],
            path=scope["path"],
            client_host=client[0] if client else None,
        )
        start = time.perf_counter()
        status_code = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            logger.error("http.request.error", duration_ms=_elapsed_ms(start), error=type(exc).__name__, exc_info=exc)
            raise
        else:
            logger.info("http.request.complete", status_code=status_code, duration_ms=_elapsed_ms(start))
        finally:
            structlog.contextvars.reset_contextvars(**tokens)


class ContextValueMiddleware(Generic[T]):
    """Set a context variable to one value for each request (plain ASGI: one `ContextVar.set` per request).

    The composition root uses it to make a service current for its requests (D6).
    """

    def __init__(self, app: ASGIApp, *, variable: ContextVar[T | None], value: T) -> None:
        """Wrap `app`: each request runs with `variable` set to `value`."""
        self.app = app
        self.variable = variable
        self.value = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with the value set, then restore what was there."""
        token = self.variable.set(self.value)
        try:
            await self.app(scope, receive, send)
        finally:
            self.variable.reset(token)


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def add_logging_middleware(app: Any) -> None:
    """Add request logging middleware to FastAPI application."""
    app.add_middleware(RequestLoggingMiddleware)


__all__ = ["REQUEST_ID_HEADER", "RequestLoggingMiddleware", "add_logging_middleware"]
