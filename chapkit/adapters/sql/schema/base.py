"""Declarative base classes: `Base` for every table and `Entity` with id and timestamp columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from ulid import ULID

from chapkit.adapters.sql.types import ULIDType, UTCDateTime


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC (timestamps keep microseconds, D8)."""
    return datetime.now(UTC)


def same_as_created_at(context: DefaultExecutionContext) -> Any:
    """Default for `updated_at` on insert: the row's `created_at`, so a new row has equal timestamps."""
    parameters: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return parameters.get("created_at") or utc_now()


class Base(AsyncAttrs, DeclarativeBase):
    """Root declarative base with async support; chapkit's own tables live in its metadata too."""


class Entity(Base):
    """Optional base with common columns for your models: ULID id, `created_at`, `updated_at`."""

    __abstract__ = True

    id: Mapped[ULID] = mapped_column(ULIDType, primary_key=True, default=ULID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=same_as_created_at, onupdate=utc_now, server_default=func.now()
    )


__all__ = ["Base", "Entity", "same_as_created_at", "utc_now"]
