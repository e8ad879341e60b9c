"""A user-style model and schemas, as a modeller would write them, used by the contract suites."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from chapkit import EntityIn, EntityOut
from chapkit.adapters.sql import Entity


class Widget(Entity):
    """A user's own declarative model: name, size, an optional level and a JSON-ish payload."""

    __tablename__ = "test_widgets"

    name: Mapped[str]
    size: Mapped[int] = mapped_column(default=0)
    level: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(default=None)


class WidgetIn(EntityIn):
    name: str
    size: int = 0
    level: int = 0
    note: str | None = None


class WidgetOut(EntityOut):
    name: str
    size: int
    level: int
    note: str | None = None
