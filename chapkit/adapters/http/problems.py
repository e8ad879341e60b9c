"""Problem Details (RFC 9457) responses: the one JSON shape of every error chapkit produces (D14)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from chapkit.domain.errors import ChapkitException, ErrorType
from chapkit.domain.schemas import ProblemDetail

PROBLEM_MEDIA_TYPE = "application/problem+json"


def request_id_of(request: Request) -> str | None:
    """Return the id the request logging middleware gave this request, if it runs."""
    state: dict[str, Any] | None = request.scope.get("state")
    return None if state is None else state.get("request_id")


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str,
    type_uri: str = "about:blank",
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """Build a problem+json response; the request id becomes `trace_id` when request logging is on."""
    body: dict[str, Any] = {"type": type_uri, "title": title, "status": status, "detail": detail}
    body["instance"] = instance if instance is not None else request.url.path
    for key, value in extensions.items():
        if value is not None and key not in body:
            body[key] = value
    trace_id = request_id_of(request)
    if trace_id is not None and "trace_id" not in body:
        body["trace_id"] = trace_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}))


class ProblemHTTPException(HTTPException):
    """An `HTTPException` with a problem type: for middleware that must raise where FastAPI reads the body.

    FastAPI passes HTTPExceptions raised while reading a request body through unchanged (any other
    error becomes its generic 400), and the HTTP exception handler renders this one with its type.
    """

    def __init__(
        self, status: int, *, title: str, detail: str, type_uri: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Create the exception for a problem with this status, title, detail and type."""
        super().__init__(status_code=status, detail=detail, headers=dict(headers or {}))
        self.title = title
        self.type_uri = type_uri


def exception_problem(request: Request, exc: ChapkitException) -> JSONResponse:
    """Render a chapkit exception as its problem."""
    return problem_response(
        request,
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        type_uri=exc.type_uri,
        instance=exc.instance,
        **exc.extensions,
    )


INTERNAL_PROBLEM = {"type": ErrorType.INTERNAL_ERROR, "title": "Internal Server Error", "status": 500}

_PROBLEM_REF = {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting problem+json answers with these status codes."""
    return {
        status: {
            "model": ProblemDetail,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: _PROBLEM_REF},
        }
        for status in statuses
    }


__all__ = [
    "INTERNAL_PROBLEM",
    "PROBLEM_MEDIA_TYPE",
    "ProblemHTTPException",
    "exception_problem",
    "problem_response",
    "problem_responses",
    "request_id_of",
]
