"""`DirectRoute`: a route FastAPI documents from its endpoint but serves with a handler of the request alone.

FastAPI serves each request of a route through its request handler: body reading, dependency solving,
the endpoint's call and the response's checks, about 0.1 ms of CPU per request even when the route
needs only a path parameter and a manager. That was a seventh of a GET by id. chapkit's own CRUD
routes get their manager from a factory that needs nothing but the request (`request_scoped`), so a
route of theirs that reads only path parameters can skip that machinery: its OpenAPI operation, its
path matching, its middleware, its exception handlers and the closing of its unit of work after the
response are FastAPI's as before; only the endpoint's arguments are computed by the handler instead
of by the dependency solver.

A route with a JSON body (`POST`, `PUT`) gets its body the way FastAPI gets it: a body sent as JSON is
parsed by the request's `json()` (`json.loads`, or a `FrameRequest`'s frames) and validated as FastAPI
validates it (`validate_python`, `from_attributes`).
Anything else, and any body that does not parse or validate, goes to FastAPI's own handler, which reads
the same (cached) body and answers as it always does: its 422s, its errors for a body that is no JSON
and its content-type rules are FastAPI's, not copies of them. A route with query parameters (a list's
`page` and `size`) is served directly when they are plain in-range integers or absent, and by FastAPI
otherwise, for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

RequestHandler = Callable[[Request], Coroutine[Any, Any, Response]]
"""What serves a direct route's request: the request in, the response out."""

DeferringHandler = Callable[[Request], Coroutine[Any, Any, Response | None]]
"""What serves a direct route whose requests it may leave to FastAPI: None for those."""

BodyHandler = Callable[[Request, Any], Coroutine[Any, Any, Response]]
"""What serves a direct route with a body: the request and its validated body in, the response out."""

F = TypeVar("F", bound=Callable[..., Any])

_REQUEST_SCOPED = "__chapkit_request_scoped__"
_DIRECT_HANDLER = "__chapkit_direct_handler__"
_DIRECT_DEFERS = "__chapkit_direct_defers__"
_UNDECIDED: Any = object()
"""A body the direct handler leaves to FastAPI."""


def request_scoped(factory: F) -> F:
    """Mark a manager factory that takes only the request and is never overridden (chapkit's built-in ones).

    Routes built on such a factory may call it themselves (`DirectRoute`) instead of through FastAPI's
    dependency solver, which would reach the same function with the same request.
    """
    setattr(factory, _REQUEST_SCOPED, True)
    return factory


def is_request_scoped(factory: Callable[..., Any]) -> bool:
    """Whether `factory` was marked with `request_scoped`."""
    return getattr(factory, _REQUEST_SCOPED, False) is True


def serve_directly(endpoint: F, handler: RequestHandler) -> F:
    """Have `DirectRoute` serve `endpoint`'s route with `handler`; `endpoint` still documents it."""
    setattr(endpoint, _DIRECT_HANDLER, handler)
    return endpoint


def serve_directly_unless_deferred(endpoint: F, handler: DeferringHandler) -> F:
    """Have `DirectRoute` serve `endpoint`'s route with `handler`, which answers None to leave a request to FastAPI.

    For routes with query parameters: `handler` serves the requests whose parameters it can read as
    FastAPI would, and defers the others (those FastAPI may refuse), whose answers are then FastAPI's.
    """
    setattr(endpoint, _DIRECT_HANDLER, handler)
    setattr(endpoint, _DIRECT_DEFERS, True)
    return endpoint


def serve_directly_with_body(endpoint: F, handler: BodyHandler, body: TypeAdapter[Any]) -> F:
    """Have `DirectRoute` serve `endpoint`'s route with `handler`, given the JSON body validated by `body`.

    A body that is not JSON, does not parse or does not validate is left to FastAPI's handler of the
    endpoint (which has `body`'s type as its body parameter), so its answers are FastAPI's own.
    """

    async def with_body(request: Request) -> Response | None:
        value = await _json_body(request, body)
        return None if value is _UNDECIDED else await handler(request, value)

    return serve_directly_unless_deferred(endpoint, with_body)


class DirectRoute(APIRoute):
    """An `APIRoute` whose requests go to the handler `serve_directly` attached to its endpoint.

    A route with dependencies of its own (the router's `dependencies=`, say) is served by FastAPI's
    handler, which runs them; so is an endpoint without a direct handler. The handler runs inside
    FastAPI's request wrapper, so the exception handlers and the request's exit stack (which closes a
    unit of work after the response) are the same as for any route.
    """

    def get_route_handler(self) -> RequestHandler:
        """The endpoint's direct handler when it has one and the route has no dependencies, else FastAPI's."""
        handler: Any = getattr(self.endpoint, _DIRECT_HANDLER, None)
        if handler is None or self.dependencies:
            return super().get_route_handler()
        if getattr(self.endpoint, _DIRECT_DEFERS, False):
            return _or_fastapi(handler, super().get_route_handler())
        direct: RequestHandler = handler
        return direct


def _or_fastapi(handler: DeferringHandler, fastapi_handler: RequestHandler) -> RequestHandler:
    """`handler`'s answer, or FastAPI's handler's where `handler` defers (answers None)."""

    async def serve(request: Request) -> Response:
        response = await handler(request)
        return await fastapi_handler(request) if response is None else response

    return serve


async def _json_body(request: Request, body: TypeAdapter[Any]) -> Any:
    """The request's body as FastAPI would pass it to the endpoint, or `_UNDECIDED` where FastAPI must decide."""
    if not _is_json(request.headers.get("content-type")):
        return _UNDECIDED
    if not await request.body():  # kept by the request, as is its JSON: FastAPI's handler reads both from there
        return _UNDECIDED
    try:
        return body.validate_python(await request.json(), from_attributes=True)
    except Exception:  # whatever it is, FastAPI's handler meets it again and answers it
        return _UNDECIDED


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this content type as JSON (`application/json`, `application/...+json`)."""
    if content_type is None:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


__all__ = [
    "BodyHandler",
    "DeferringHandler",
    "DirectRoute",
    "RequestHandler",
    "is_request_scoped",
    "request_scoped",
    "serve_directly",
    "serve_directly_unless_deferred",
    "serve_directly_with_body",
]
