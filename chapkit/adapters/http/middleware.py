"""Request logging: an id per request in `X-Request-ID`, request context bound in every log line."""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ulid import ULID

from chapkit.adapters.observability import get_logger

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


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def add_logging_middleware(app: Any) -> None:
    """Add request logging middleware to FastAPI application."""
    app.add_middleware(RequestLoggingMiddleware)


__all__ = ["REQUEST_ID_HEADER", "RequestLoggingMiddleware", "add_logging_middleware"]
