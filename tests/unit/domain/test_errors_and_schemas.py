"""Pure domain pieces: problem errors, pagination, bulk results, problem details, job records."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError
from ulid import ULID

from chapkit import (
    BadRequestError,
    BulkOperationResult,
    ChapkitException,
    ConflictError,
    EntityIn,
    ErrorType,
    ForbiddenError,
    InvalidULIDError,
    JobRecord,
    JobStatus,
    NotFoundError,
    PaginatedResponse,
    ProblemDetail,
    UnauthorizedError,
    ValidationError,
)


@pytest.mark.parametrize(
    ("error_class", "type_uri", "title", "status"),
    [
        (NotFoundError, ErrorType.NOT_FOUND, "Resource Not Found", 404),
        (ValidationError, ErrorType.VALIDATION_FAILED, "Validation Failed", 400),
        (ConflictError, ErrorType.CONFLICT, "Resource Conflict", 409),
        (InvalidULIDError, ErrorType.INVALID_ULID, "Invalid ULID Format", 400),
        (BadRequestError, ErrorType.BAD_REQUEST, "Bad Request", 400),
        (UnauthorizedError, ErrorType.UNAUTHORIZED, "Unauthorized", 401),
        (ForbiddenError, ErrorType.FORBIDDEN, "Forbidden", 403),
    ],
)
def test_each_error_carries_its_problem_fields(
    error_class: type[ChapkitException], type_uri: str, title: str, status: int
) -> None:
    error = error_class("it went wrong", instance="/api/v1/things/1", field="name")
    assert isinstance(error, ChapkitException)
    assert (error.type_uri, error.title, error.status) == (type_uri, title, status)
    assert (error.detail, str(error), error.instance) == ("it went wrong", "it went wrong", "/api/v1/things/1")
    assert error.extensions == {"field": "name"}


def test_base_exception_defaults_to_internal_error() -> None:
    error = ChapkitException("boom")
    assert (error.type_uri, error.title, error.status, error.instance, error.extensions) == (
        "urn:chapkit:error:internal",
        "Internal Server Error",
        500,
        None,
        {},
    )


@pytest.mark.parametrize(("total", "size", "pages"), [(0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2)])
def test_paginated_response_computes_pages(total: int, size: int, pages: int) -> None:
    page = PaginatedResponse[int](items=[], total=total, page=1, size=size)
    assert page.pages == pages
    assert page.model_dump()["pages"] == pages


def test_paginated_response_rejects_bad_numbers() -> None:
    with pytest.raises(PydanticValidationError):
        PaginatedResponse[int](items=[], total=-1, page=0, size=0)


def test_bulk_result_and_problem_detail_defaults() -> None:
    assert BulkOperationResult(total=2, succeeded=2, failed=0).errors == []
    problem = ProblemDetail(title="Bad Request", status=400, detail="nope", limit=3)  # type: ignore[call-arg]
    assert problem.type == "about:blank"
    assert problem.model_dump(exclude_none=True) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "nope",
        "limit": 3,
    }


def test_entity_in_accepts_ulid_strings_and_rejects_garbage() -> None:
    identifier = ULID()
    assert EntityIn(id=str(identifier)).id == identifier  # type: ignore[arg-type]
    assert EntityIn().id is None
    with pytest.raises(PydanticValidationError):
        EntityIn(id="not-a-ulid")  # type: ignore[arg-type]


def test_job_record_defaults_and_json() -> None:
    record = JobRecord(id=ULID())
    assert record.status is JobStatus.pending
    assert record.model_dump(mode="json")["id"] == str(record.id)
    assert [s.value for s in JobStatus] == ["pending", "running", "completed", "failed", "canceled"]
