"""Translation of database errors into chapkit's domain errors, at the adapter boundary."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm.exc import StaleDataError

from chapkit.domain.errors import ChapkitException, ConflictError, ValidationError

P = ParamSpec("P")
R = TypeVar("R")


def integrity_problem(error: IntegrityError) -> ChapkitException:
    """Describe a constraint violation without echoing SQL, table layouts or values (D18)."""
    message = str(error.orig).lower()
    if "not null" in message or "null value" in message:
        return ValidationError("A required value is missing")
    if "foreign key" in message:
        return ConflictError("The change refers to an entity that does not exist, or one that is still referenced")
    return ConflictError("An entity with the same key already exists")


OUT_OF_RANGE = "A value is out of the range or size its column can store"


def is_data_error(error: DBAPIError) -> bool:
    """Whether the database refused a value itself (SQLSTATE class 22, "data exception"): the caller's input."""
    if isinstance(error, DataError):
        return True
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return isinstance(state, str) and state.startswith("22")


@contextmanager
def domain_errors() -> Iterator[None]:
    """Re-raise database errors raised inside the block as chapkit errors."""
    try:
        yield
    except IntegrityError as error:
        raise integrity_problem(error) from error
    except StaleDataError as error:
        raise ConflictError("The entity was changed or deleted by another session") from error
    except StatementError as error:
        if isinstance(error.orig, ChapkitException):  # raised by a column type, e.g. an invalid ULID
            raise error.orig from error
        if isinstance(error, DBAPIError) and is_data_error(error):
            raise ValidationError(OUT_OF_RANGE) from error
        raise
    except OverflowError as error:  # SQLite's driver: an integer beyond 64 bits
        raise ValidationError(OUT_OF_RANGE) from error


def translated(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate an async repository method so database errors leave it as chapkit errors."""

    @wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with domain_errors():
            return await method(*args, **kwargs)

    return wrapper


__all__ = ["OUT_OF_RANGE", "domain_errors", "integrity_problem", "is_data_error", "translated"]
