r"""Request body checks at the input boundary: a size limit (413) and text that can be stored (400).

Both are checked as the endpoint reads the body, in one `receive` wrapper, and answered as
problem+json before anything is stored. A body is never buffered beyond what the endpoint reads: an
oversize one is refused on its `Content-Length`, or, streamed (chunked), at the chunk that passes the
limit.

Text: JSON allows `"\\ud800"`, which Python decodes to a lone surrogate, text that no storage or
response can encode, and `"\\u0000"`, a NUL character, which PostgreSQL cannot store in text or
JSON. Caught here, every backend answers the same 400 (memory would otherwise store them, SQLite
too, and fail on the way out; PostgreSQL fails on write, or never for pickled artifact data, which
then breaks every later read).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chapkit.adapters.http.problems import ProblemHTTPException, problem_response
from chapkit.domain.data_bounds import NUL_TEXT, UNENCODABLE_TEXT, text_problem
from chapkit.domain.errors import ErrorType

DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024
"""64 MiB: room for training data (100,000 rows x 10 columns is about 20 MB of JSON)."""

MAX_BODY_SIZE_ENV = "CHAPKIT_MAX_BODY_BYTES"
"""The environment variable that sets the limit (in bytes) when the service builder does not."""

LONE_SURROGATE_DETAIL = "The request contains text that is not valid Unicode (a lone UTF-16 surrogate)"
NUL_DETAIL = "The request contains a NUL character (\\u0000), which cannot be stored"

_SUSPICIOUS_ESCAPE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)|\xed[\xa0-\xbf]")
"""A NUL or surrogate escape, or a surrogate written as bytes (which `json.loads` decodes, as "surrogatepass")."""
_CARRY = 5
"""Bytes kept from the chunks before so an escape split across chunks (however small) is still seen."""


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string (key or value) inside a decoded JSON value holds a lone surrogate."""
    return _first_text_problem(value) == UNENCODABLE_TEXT


def _first_text_problem(value: Any) -> str | None:
    """The first string (key or value) inside a decoded JSON value that cannot be stored: why, or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return problem
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _body_text_problem(body: bytes) -> str | None:
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON (or too deep to decode): the endpoint's own parsing answers it
    return _first_text_problem(decoded)


def max_body_size_from_env(environ: Mapping[str, str]) -> int | None:
    """The limit `CHAPKIT_MAX_BODY_BYTES` sets: a positive number of bytes; None when it is unset or empty.

    A value that is no positive integer is a `ValueError` naming the variable (the service does not start).
    """
    raw = environ.get(MAX_BODY_SIZE_ENV, "").strip().replace("_", "")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_BODY_SIZE_ENV} must be a positive number of bytes, got {environ[MAX_BODY_SIZE_ENV]!r}")
    return int(raw)


class RequestBodyMiddleware:
    r"""Reject bodies past `max_body_size` bytes (413; None: no limit) and JSON with NUL or lone surrogates (400).

    The common path costs a length sum and one byte search per chunk; a body is decoded a second
    time only when it contains a NUL escape (`\\u0000`) or a surrogate escape (`\\ud800`-`\\udfff`),
    and a well-formed pair passes. The chunks are held (as references to what the endpoint reads
    anyway) only until the last one is checked.
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
        tail = b""

        async def checking_receive() -> Message:
            nonlocal received, suspicious, tail
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if limit is not None and received > limit:
                raise self._too_large()
            if not suspicious and chunk:
                seam = tail + chunk[:_CARRY]
                suspicious = bool(_SUSPICIOUS_ESCAPE.search(chunk) or _SUSPICIOUS_ESCAPE.search(seam))
                tail = (tail + chunk[-_CARRY:])[-_CARRY:]
            chunks.append(chunk)
            if message.get("more_body", False):
                return message
            body = b"".join(chunks) if suspicious else b""
            chunks.clear()  # checked: hold nothing while the endpoint parses and runs
            problem = _body_text_problem(body) if suspicious else None
            del body
            if problem is not None:
                detail = NUL_DETAIL if problem == NUL_TEXT else LONE_SURROGATE_DETAIL
                raise ProblemHTTPException(400, title="Bad Request", detail=detail, type_uri=ErrorType.BAD_REQUEST)
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


__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "LONE_SURROGATE_DETAIL",
    "MAX_BODY_SIZE_ENV",
    "NUL_DETAIL",
    "RequestBodyMiddleware",
    "has_lone_surrogate",
    "max_body_size_from_env",
]
