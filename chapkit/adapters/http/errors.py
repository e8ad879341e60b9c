"""Error handlers: chapkit errors, validation errors and unexpected errors as problem+json (D14, D18)."""

from __future__ import annotations

import functools
import json
import math
import traceback
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any

import pydantic
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chapkit.adapters.http.problems import ProblemHTTPException, exception_problem, problem_response
from chapkit.adapters.http.request_body import LONE_SURROGATE_DETAIL
from chapkit.adapters.observability import get_logger
from chapkit.domain.errors import ChapkitException, ErrorType

logger = get_logger(__name__)


async def chapkit_exception_handler(request: Request, exc: ChapkitException) -> JSONResponse:
    """Handle ChapkitException and return RFC 9457 Problem Details."""
    if exc.status >= 500:
        logger.error("chapkit.error", error_type=exc.type_uri, status=exc.status, path=request.url.path)
    return exception_problem(request, exc)


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Handle database (and any unexpected) errors: a 500 problem that leaks nothing; details go to the log."""
    logger.error("database.error", error_class=type(exc).__name__, path=request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=500,
        title="Internal Server Error",
        detail="An internal error occurred; it has been logged.",
        type_uri=ErrorType.INTERNAL_ERROR,
    )


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Handle a pydantic validation error raised while serving a request: 422 problem with the error list."""
    errors: list[Any] = []
    if isinstance(exc, pydantic.ValidationError):
        # No input values, URLs or context objects: they may be large, secret or not JSON-encodable.
        errors = [
            {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
            for error in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
    logger.warning("validation.error", path=request.url.path, error_count=len(errors))
    return problem_response(
        request,
        status=422,
        title="Validation Failed",
        detail="Validation error",
        type_uri=ErrorType.VALIDATION_FAILED,
        errors=errors,
    )


async def request_validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request-validation 422 (`{"detail": [...]}`), safe for large inputs and non-finite numbers.

    FastAPI's own handler echoes each error's input whole: a 20 MB body came back as a 20 MB answer,
    built from several copies of it. Here each echoed input is cut to `ECHOED_INPUT_LIMIT` characters
    before anything is encoded. Python's JSON parser reads `NaN`, `Infinity` and `1e400` as floats
    that a response cannot encode, which made such a body a 500; they are echoed by name.
    """
    assert isinstance(exc, RequestValidationError)
    errors = [_without_exceptions_in_context(_with_bounded_input(dict(error))) for error in exc.errors()]
    content = {"detail": jsonable_encoder(errors)}
    try:
        return JSONResponse(status_code=422, content=content)
    except ValueError:  # "Out of range float values are not JSON compliant"
        return JSONResponse(status_code=422, content=_with_finite_numbers(content))


ECHOED_INPUT_LIMIT = 1024
"""Characters of a refused input that a 422 echoes back; a large body is not sent back whole."""

_ECHO_DEPTH = 32
"""Deepest nesting copied into an echo: deeper input is cut there (it could not be encoded anyway)."""


def _with_bounded_input(error: dict[str, Any]) -> dict[str, Any]:
    """Cut an error's echoed `input` to `ECHOED_INPUT_LIMIT` characters of its JSON text, never encoding it whole."""
    value = error.get("input")
    if not isinstance(value, dict | list | tuple | str | bytes):
        return error
    budget = [ECHOED_INPUT_LIMIT]
    copied = _bounded_copy(value, budget, 0)
    try:
        text = json.dumps(copied, allow_nan=True, default=str)
    except (TypeError, ValueError):
        error["input"] = "<input not echoed>"
        return error
    if budget[0] >= 0 and len(text) <= ECHOED_INPUT_LIMIT:
        error["input"] = copied
    else:
        error["input"] = text[:ECHOED_INPUT_LIMIT] + f"... (over {ECHOED_INPUT_LIMIT} characters, truncated)"
    return error


def _without_exceptions_in_context(error: dict[str, Any]) -> dict[str, Any]:
    """Write an exception in an error's `ctx` as `jsonable_encoder` would (`{}`), without its help.

    `jsonable_encoder` finds that an exception is no mapping by catching a `TypeError`, whose
    traceback holds its frames and, through them, every caller's: the request and its parsed body
    stayed in memory (a reference cycle) until a rare full garbage collection.
    """
    context = error.get("ctx")
    if isinstance(context, dict):
        error["ctx"] = {key: {} if isinstance(value, BaseException) else value for key, value in context.items()}
    return error


def release_frames(exc: BaseException) -> None:
    """Drop the tracebacks of an answered exception, of those chained to it and of those its errors carry.

    Once a handler has answered, nothing reads them; left alone, frames that refer to the exception
    (a variable holding it, a list of errors that carries it) make cycles that keep the request's
    body, parsed, in memory until a rare full garbage collection. Frames still running are left as
    they are.
    """
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        traceback.clear_frames(item.__traceback__)
        item.__traceback__ = None  # the frames' callers (not in the traceback) may hold the body too
        pending.extend(chained for chained in (item.__cause__, item.__context__) if chained is not None)
        errors: Sequence[Any] = []
        if isinstance(item, RequestValidationError):
            errors = item.errors()
        elif isinstance(item, pydantic.ValidationError):
            errors = item.errors(include_url=False, include_input=False)
        for error in errors:
            context = error.get("ctx") if isinstance(error, dict) else None
            if isinstance(context, dict):
                pending.extend(value for value in context.values() if isinstance(value, BaseException))


def _bounded_copy(value: Any, budget: list[int], depth: int) -> Any:
    """A copy of `value` with about `budget[0]` characters of content at most; the budget goes negative if cut."""
    if isinstance(value, bytes):
        value = value[: budget[0] + 1].decode("utf-8", errors="replace")
    if isinstance(value, str):
        budget[0] -= len(value) + 2
        return value if budget[0] >= 0 else value[: max(0, budget[0] + len(value) + 2)]
    if not isinstance(value, dict | list | tuple):
        budget[0] -= len(repr(value)) + 2  # a number, a boolean, null: about its JSON text and a separator
        return value
    if depth >= _ECHO_DEPTH:
        budget[0] = -1
        return "..."
    budget[0] -= 2
    if isinstance(value, dict):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if budget[0] < 0:
                break
            copied[_bounded_copy(str(key), budget, depth + 1)] = _bounded_copy(item, budget, depth + 1)
        else:
            return copied
        budget[0] = -1
        return copied
    items: list[Any] = []
    for item in value:
        if budget[0] < 0:
            budget[0] = -1
            break
        items.append(_bounded_copy(item, budget, depth + 1))
    return items


_NON_FINITE_NAMES = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _with_finite_numbers(content: dict[str, Any]) -> dict[str, Any]:
    """Replace, in place, every non-finite float by its JSON-ish name (`"NaN"`, `"Infinity"`).

    Iterative: the echoed input may nest deeper than Python's recursion limit allows to walk.
    """
    pending: list[Any] = [content]
    while pending:
        container = pending.pop()
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            item = container[key]
            if isinstance(item, float) and not math.isfinite(item):
                container[key] = _NON_FINITE_NAMES[repr(item)]
            elif isinstance(item, dict | list):
                pending.append(item)
    return content


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render Starlette/FastAPI `HTTPException`s (unknown route, wrong method...) as problems."""
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = allowed_methods(request.scope)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    if isinstance(exc, ProblemHTTPException):
        title, type_uri = exc.title, exc.type_uri
    else:
        type_uri = "about:blank"
    return problem_response(
        request, status=exc.status_code, title=title, detail=detail, type_uri=type_uri, headers=headers
    )


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route serves at this path.

    Starlette answers 405 with the methods of the first route whose path matched, but chapkit
    registers one route per method (`GET ""` and `POST ""` are two routes). Each method is tried
    against the routes (included routers resolve their own), only when a 405 is answered.
    """
    routes: list[BaseRoute] = [
        route
        for route in getattr(getattr(scope.get("app"), "router", None), "routes", [])
        # A static app mounted at `/` matches every path for every method; it serves GET and HEAD only.
        if not (isinstance(route, Mount) and isinstance(route.app, StaticFiles))
    ]
    allowed = []
    for method in _METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


async def unencodable_text_handler(request: Request, exc: Exception) -> JSONResponse:
    """Text the storage cannot encode is the client's error (bodies are checked earlier; this is the backstop)."""
    logger.warning("request.unencodable_text", path=request.url.path, error_class=type(exc).__name__)
    return problem_response(
        request,
        status=400,
        title="Bad Request",
        detail=LONE_SURROGATE_DETAIL,
        type_uri=ErrorType.BAD_REQUEST,
    )


class UnhandledErrorMiddleware:
    """Turn an exception that escaped every handler into the 500 problem, inside the middleware stack.

    Starlette's own catch-all sits outside every middleware and re-raises; catching here keeps the
    `X-Request-ID` header and the log context on the 500 response.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; answer 500 if it raises before a response started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = await database_error_handler(Request(scope), exc)
            await response(scope, receive, send)


Handler = Callable[[Request, Any], Awaitable[Response]]


def releasing_frames(handler: Handler) -> Handler:
    """`handler`, then `release_frames` on the exception it answered."""

    @functools.wraps(handler)
    async def answer(request: Request, exc: Any) -> Response:
        try:
            return await handler(request, exc)
        finally:
            release_frames(exc)

    return answer


def add_error_handlers(app: Any) -> None:
    """Add error handlers to FastAPI application (each releases the frames of what it answered)."""
    fastapi_app: FastAPI = app
    fastapi_app.add_exception_handler(ChapkitException, releasing_frames(chapkit_exception_handler))
    fastapi_app.add_exception_handler(pydantic.ValidationError, releasing_frames(validation_error_handler))
    fastapi_app.add_exception_handler(RequestValidationError, releasing_frames(request_validation_error_handler))
    fastapi_app.add_exception_handler(StarletteHTTPException, releasing_frames(http_exception_handler))
    fastapi_app.add_exception_handler(UnicodeEncodeError, releasing_frames(unencodable_text_handler))
    fastapi_app.add_middleware(UnhandledErrorMiddleware)


__all__ = [
    "UnhandledErrorMiddleware",
    "add_error_handlers",
    "chapkit_exception_handler",
    "database_error_handler",
    "allowed_methods",
    "http_exception_handler",
    "release_frames",
    "releasing_frames",
    "request_validation_error_handler",
    "unencodable_text_handler",
    "validation_error_handler",
]
