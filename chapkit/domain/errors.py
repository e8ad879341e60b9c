"""Exceptions carrying RFC 9457 Problem Details (type URN, title, status, instance, extensions)."""

from __future__ import annotations

from typing import Any, ClassVar


class ErrorType:
    """URN-based error type identifiers for RFC 9457 Problem Details."""

    NOT_FOUND = "urn:chapkit:error:not-found"
    VALIDATION_FAILED = "urn:chapkit:error:validation-failed"
    CONFLICT = "urn:chapkit:error:conflict"
    INVALID_ULID = "urn:chapkit:error:invalid-ulid"
    INTERNAL_ERROR = "urn:chapkit:error:internal"
    UNAUTHORIZED = "urn:chapkit:error:unauthorized"
    FORBIDDEN = "urn:chapkit:error:forbidden"
    BAD_REQUEST = "urn:chapkit:error:bad-request"
    SERVICE_UNAVAILABLE = "urn:chapkit:error:service-unavailable"
    NOT_ACCEPTABLE = "urn:chapkit:error:not-acceptable"


class ChapkitException(Exception):
    """Base exception for chapkit with RFC 9457 Problem Details support."""

    def __init__(
        self,
        detail: str,
        *,
        type_uri: str = ErrorType.INTERNAL_ERROR,
        title: str = "Internal Server Error",
        status: int = 500,
        instance: str | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.type_uri = type_uri
        self.title = title
        self.status = status
        self.detail = detail
        self.instance = instance
        self.extensions = extensions


class _FixedProblem(ChapkitException):
    """A problem whose type, title and status are fixed by its class."""

    problem_type: ClassVar[str]
    problem_title: ClassVar[str]
    problem_status: ClassVar[int]

    def __init__(self, detail: str, *, instance: str | None = None, **extensions: Any) -> None:
        super().__init__(
            detail,
            type_uri=self.problem_type,
            title=self.problem_title,
            status=self.problem_status,
            instance=instance,
            **extensions,
        )


class NotFoundError(_FixedProblem):
    """Resource not found exception (404)."""

    problem_type, problem_title, problem_status = ErrorType.NOT_FOUND, "Resource Not Found", 404


class JobNotFoundError(NotFoundError, KeyError):
    """No job with this id (404); also a `KeyError`, what the reference's schedulers raise for unknown ids."""

    def __init__(self, job_id: object) -> None:
        super().__init__(f"Job {job_id} not found")
        self.job_id = job_id

    def __str__(self) -> str:
        # KeyError would quote the message (its str is the repr of the missing key).
        return self.detail


class ValidationError(_FixedProblem):
    """Validation failed exception (400)."""

    problem_type, problem_title, problem_status = ErrorType.VALIDATION_FAILED, "Validation Failed", 400


class ConflictError(_FixedProblem):
    """Resource conflict exception (409)."""

    problem_type, problem_title, problem_status = ErrorType.CONFLICT, "Resource Conflict", 409


class InvalidULIDError(_FixedProblem, ValueError):
    """Invalid ULID format exception (400); also a `ValueError`, as the reference's `ULIDType` raises one."""

    problem_type, problem_title, problem_status = ErrorType.INVALID_ULID, "Invalid ULID Format", 400


class BadRequestError(_FixedProblem):
    """Bad request exception (400)."""

    problem_type, problem_title, problem_status = ErrorType.BAD_REQUEST, "Bad Request", 400


class UnauthorizedError(_FixedProblem):
    """Unauthorized exception (401)."""

    problem_type, problem_title, problem_status = ErrorType.UNAUTHORIZED, "Unauthorized", 401


class ForbiddenError(_FixedProblem):
    """Forbidden exception (403)."""

    problem_type, problem_title, problem_status = ErrorType.FORBIDDEN, "Forbidden", 403


class NotAcceptableError(_FixedProblem):
    """406: the resource exists but not in the representation asked for (e.g. a format this service lacks)."""

    problem_type, problem_title, problem_status = ErrorType.NOT_ACCEPTABLE, "Not Acceptable", 406


class ServiceUnavailableError(_FixedProblem):
    """503: the storage is too busy to take the request now (a bounded wait ran out); retrying may work."""

    problem_type, problem_title, problem_status = ErrorType.SERVICE_UNAVAILABLE, "Service Unavailable", 503


__all__ = [
    "BadRequestError",
    "ChapkitException",
    "ConflictError",
    "ErrorType",
    "ForbiddenError",
    "InvalidULIDError",
    "JobNotFoundError",
    "NotAcceptableError",
    "NotFoundError",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "ValidationError",
]
