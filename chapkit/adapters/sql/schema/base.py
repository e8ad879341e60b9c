"""Declarative base classes: `Base` for every table and `Entity` with id and timestamp columns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from ulid import ULID

from chapkit.adapters.sql.schema.defaults import fill_defaults_before_insert, same_as_created_at, utc_now
from chapkit.adapters.sql.types import ULIDType, UTCDateTime


class Base(AsyncAttrs, DeclarativeBase):
    """Root declarative base with async support; chapkit's own tables live in its metadata too.

    A new row of any subclass gets its defaults just before its INSERT is built (`schema/defaults.py`).
    """


fill_defaults_before_insert(Base)


class Entity(Base):
    """Optional base with common columns for your models: ULID id, `created_at`, `updated_at`."""

    __abstract__ = True

    id: Mapped[ULID] = mapped_column(ULIDType, primary_key=True, default=ULID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=same_as_created_at, onupdate=utc_now, server_default=func.now()
    )


__all__ = ["Base", "Entity", "same_as_created_at", "utc_now"]
