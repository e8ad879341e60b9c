r"""Request body checks at the input boundary: a size limit (413) and valid Unicode text (400).

Both are checked as the endpoint reads the body, in one `receive` wrapper, and answered as
problem+json before anything is stored.

Unicode: JSON allows `"\\ud800"`, which Python decodes to a lone surrogate, text that no storage or
response can encode. Caught here, every backend answers the same 400 (memory would otherwise store
it and fail on the way out; SQL fails on write, or never for pickled artifact data, which then
breaks every later read).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chapkit.adapters.http.problems import ProblemHTTPException, problem_response
from chapkit.domain.errors import ErrorType

DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024
"""64 MiB: room for training data (100,000 rows x 10 columns is about 20 MB of JSON)."""

LONE_SURROGATE_DETAIL = "The request contains text that is not valid Unicode (a lone UTF-16 surrogate)"

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_CARRY = 5
"""Bytes kept from the previous chunk so an escape split across chunks is still seen."""


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string (key or value) inside a decoded JSON value holds a lone surrogate."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _body_has_lone_surrogate(body: bytes) -> bool:
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON (or too deep to decode): the endpoint's own parsing answers it
    return has_lone_surrogate(decoded)


class RequestBodyMiddleware:
    r"""Reject bodies past `max_body_size` bytes (413; None: no limit) and JSON with lone surrogates (400).

    The common path costs a length sum and one byte search per chunk; a body is decoded a second
    time only when it contains a surrogate escape (`\\ud800`-`\\udfff`), and a well-formed pair passes.
    """

    def __init__(self, app: ASGIApp, *, max_body_size: int | None = DEFAULT_MAX_BODY_SIZE) -> None:
        """Wrap `app` with a limit in bytes (None for no limit)."""
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversize body at once; check a streamed body as it is read."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_size
        declared = Headers(scope=scope).get("content-length")
        if limit is not None and declared is not None and declared.isdigit() and int(declared) > limit:
            await self._answer(scope, receive, send, self._too_large())
            return

        chunks: list[bytes] = []
        received = 0
        suspicious = False

        async def checking_receive() -> Message:
            nonlocal received, suspicious
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if limit is not None and received > limit:
                raise self._too_large()
            if not suspicious and chunk:
                seam = (chunks[-1][-_CARRY:] if chunks else b"") + chunk[:_CARRY]
                suspicious = bool(_SURROGATE_ESCAPE.search(chunk) or _SURROGATE_ESCAPE.search(seam))
            chunks.append(chunk)
            if suspicious and not message.get("more_body", False) and _body_has_lone_surrogate(b"".join(chunks)):
                raise ProblemHTTPException(
                    400, title="Bad Request", detail=LONE_SURROGATE_DETAIL, type_uri=ErrorType.BAD_REQUEST
                )
            return message

        # Raised inside FastAPI's body reading, the exception reaches its exception handlers unchanged.
        await self.app(scope, checking_receive, send)

    def _too_large(self) -> ProblemHTTPException:
        detail = f"Request body exceeds the limit of {self.max_body_size} bytes"
        return ProblemHTTPException(
            413, title="Content Too Large", detail=detail, type_uri="about:blank", headers={"Connection": "close"}
        )

    @staticmethod
    async def _answer(scope: Scope, receive: Receive, send: Send, rejected: ProblemHTTPException) -> None:
        response = problem_response(
            Request(scope),
            status=rejected.status_code,
            title=rejected.title,
            detail=rejected.detail,
            type_uri=rejected.type_uri,
            headers=rejected.headers,
        )
        await response(scope, receive, send)


__all__ = ["DEFAULT_MAX_BODY_SIZE", "LONE_SURROGATE_DETAIL", "RequestBodyMiddleware", "has_lone_surrogate"]
