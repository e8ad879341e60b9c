"""`FrameRoute`: a route whose JSON body is parsed with its frames held column by column (ML routes).

FastAPI parses a JSON body with `json.loads` before validating it; for `$train`, `$predict` and
`$validate` that is a list per row and an object per value, several times the body's size, and
validating those rows as `PandasDataFrame` copies them again. A `FrameRoute` hands FastAPI a request
whose `json()` reads the frames (`data`, `historic`, `future`) column by column instead
(`chapkit.domain.frames`). Everything else is FastAPI's own: the body schema in the OpenAPI document,
content types, validation and its 422 errors, and the errors of a body that is not JSON.

A `FrameRoute` is a `DirectRoute`: an endpoint given a direct handler (`serve_directly_with_body`, as
`MLRouter` gives `$train` and `$predict` on chapkit's built-in manager) gets its body from the same
`FrameRequest`, validated as FastAPI would, and any other body is FastAPI's to answer.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response

from chapkit.adapters.http.direct_route import DirectRoute
from chapkit.domain.frames import FRAME_MEMBERS, loads_with_frames


class FrameRequest(Request):
    """A request whose `json()` holds the body's frames as columns."""

    async def json(self) -> Any:
        """The body parsed as `json.loads` would, but for the frames (cached, as Starlette's own)."""
        if not hasattr(self, "_json"):
            self._json = loads_with_frames(await self.body(), FRAME_MEMBERS)
        return self._json


class FrameRoute(DirectRoute):
    """A `DirectRoute` that serves its endpoint a `FrameRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler (direct or FastAPI's), given a `FrameRequest` over the same connection."""
        handler = super().get_route_handler()

        async def frame_handler(request: Request) -> Response:
            return await handler(FrameRequest(request.scope, request.receive))

        return frame_handler


__all__ = ["FrameRequest", "FrameRoute"]
