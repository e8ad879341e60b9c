"""A request body size limit: 413 problem+json past it, checked on `Content-Length` and while reading."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chapkit.adapters.http.problems import problem_response

DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024
"""64 MiB: room for training data (100,000 rows x 10 columns is about 20 MB of JSON)."""

_TITLE = "Content Too Large"


def _too_large(max_body_size: int) -> str:
    return f"Request body exceeds the limit of {max_body_size} bytes"


class BodySizeLimitMiddleware:
    """Reject request bodies larger than `max_body_size` bytes with 413."""

    def __init__(self, app: ASGIApp, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> None:
        """Wrap `app` with a limit in bytes."""
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversize body at once; count a streamed body as it is read."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_size:
            await self._reject(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_size:
                    # FastAPI passes HTTPExceptions raised while reading the body through unchanged.
                    raise HTTPException(status_code=413, detail=_too_large(self.max_body_size))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except HTTPException as error:
            if error.status_code != 413 or started:
                raise
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            Request(scope),
            status=413,
            title=_TITLE,
            detail=_too_large(self.max_body_size),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


__all__ = ["DEFAULT_MAX_BODY_SIZE", "BodySizeLimitMiddleware"]
