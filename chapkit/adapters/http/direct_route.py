"""`DirectRoute`: a route FastAPI documents from its endpoint but serves with a handler of the request alone.

FastAPI serves each request of a route through its request handler: body reading, dependency solving,
the endpoint's call and the response's checks, about 0.1 ms of CPU per request even when the route
needs only a path parameter and a manager. That was a seventh of a GET by id. chapkit's own CRUD
routes get their manager from a factory that needs nothing but the request (`request_scoped`), so a
route of theirs that reads only path parameters can skip that machinery: its OpenAPI operation, its
path matching, its middleware, its exception handlers and the closing of its unit of work after the
response are FastAPI's as before; only the endpoint's arguments are computed by the handler instead
of by the dependency solver.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute

RequestHandler = Callable[[Request], Coroutine[Any, Any, Response]]
"""What serves a direct route's request: the request in, the response out."""

F = TypeVar("F", bound=Callable[..., Any])

_REQUEST_SCOPED = "__chapkit_request_scoped__"
_DIRECT_HANDLER = "__chapkit_direct_handler__"


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


class DirectRoute(APIRoute):
    """An `APIRoute` whose requests go to the handler `serve_directly` attached to its endpoint.

    A route with dependencies of its own (the router's `dependencies=`, say) is served by FastAPI's
    handler, which runs them; so is an endpoint without a direct handler. The handler runs inside
    FastAPI's request wrapper, so the exception handlers and the request's exit stack (which closes a
    unit of work after the response) are the same as for any route.
    """

    def get_route_handler(self) -> RequestHandler:
        """The endpoint's direct handler when it has one and the route has no dependencies, else FastAPI's."""
        handler: RequestHandler | None = getattr(self.endpoint, _DIRECT_HANDLER, None)
        if handler is None or self.dependencies:
            return super().get_route_handler()
        return handler


__all__ = ["DirectRoute", "RequestHandler", "is_request_scoped", "request_scoped", "serve_directly"]
