"""`JsonSafe`: a pydantic type that returns any Python object as JSON, replacing what cannot be encoded."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainSerializer
from pydantic_core import PydanticSerializationError, to_jsonable_python

_REPR_LIMIT = 200


def describe_unserializable(value: object, error: Exception) -> dict[str, str]:
    """Metadata returned in place of a value that cannot be JSON-encoded (its type, a bounded repr, the error)."""
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the response
        text = f"<unrepresentable: {type(exc).__name__}>"
    if len(text) > _REPR_LIMIT:
        text = text[:_REPR_LIMIT] + "..."
    return {
        "_type": type(value).__name__,
        "_module": type(value).__module__,
        "_repr": text,
        "_serialization_error": str(error),
    }


def to_json_safe(value: Any) -> Any:
    """Return `value` as JSON-compatible data; only the parts that cannot be encoded are replaced."""
    try:
        return to_jsonable_python(value)
    except (PydanticSerializationError, TypeError, ValueError) as error:
        if isinstance(value, dict):
            return {key if isinstance(key, str) else str(key): to_json_safe(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [to_json_safe(item) for item in value]
        return describe_unserializable(value, error)


JsonSafe = Annotated[Any, PlainSerializer(to_json_safe, return_type=Any)]
"""Pydantic type for JSON-safe serialization with graceful handling of non-serializable values."""

__all__ = ["JsonSafe", "describe_unserializable", "to_json_safe"]
