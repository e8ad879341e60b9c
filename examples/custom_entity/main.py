"""Your own table as REST routes: an `Entity`, its `EntityIn`/`EntityOut` schemas and a `CrudRouter`.

Besides the CRUD routes (`POST`, `GET` list or page, `GET`/`PUT`/`DELETE` by id, `$schema`), the router
gets two operations of its own: a collection operation `GET /api/v1/readings/$summary` and an entity
operation `POST /api/v1/readings/{id}/$flag`. Run from the repository root:

    chapkit serve examples.custom_entity.main:app

The `readings` table is created in `custom_entity.db` (or `DATABASE_URL`) after chapkit's own tables.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from ulid import ULID

from chapkit import (
    BaseManager,
    BaseRepository,
    BaseServiceBuilder,
    CrudRouter,
    Entity,
    EntityIn,
    EntityOut,
    InvalidULIDError,
    NotFoundError,
    ServiceInfo,
    get_session,
)

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///custom_entity.db")


class Reading(Entity):
    """One measurement at a station (a table of the service's own)."""

    __tablename__ = "readings"

    station: Mapped[str]
    value: Mapped[float]
    flagged: Mapped[bool] = mapped_column(default=False)


class ReadingIn(EntityIn):
    """A reading to store (with an `id`, a `PUT` replaces that reading)."""

    station: str
    value: float
    flagged: bool = False


class ReadingOut(ReadingIn, EntityOut):
    """A stored reading."""


class ReadingSummary(BaseModel):
    """What `$summary` answers: how many readings there are, their mean, and the stations."""

    count: int
    mean: float | None
    stations: list[str]
    flagged: int


ReadingManager = BaseManager[Reading, ReadingIn, ReadingOut, ULID]


async def reading_manager(session: AsyncSession = Depends(get_session)) -> ReadingManager:
    """The readings manager for one request (one session, committed by each save)."""
    return BaseManager(BaseRepository(session, Reading), Reading, ReadingOut)


Manager = Annotated[ReadingManager, Depends(reading_manager)]


async def summarize(manager: Manager) -> ReadingSummary:
    """Collection operation: count, mean value, stations and flagged readings."""
    readings = await manager.find_all()
    values = [reading.value for reading in readings]
    return ReadingSummary(
        count=len(readings),
        mean=sum(values) / len(values) if values else None,
        stations=sorted({reading.station for reading in readings}),
        flagged=sum(reading.flagged for reading in readings),
    )


async def flag(entity_id: str, manager: Manager) -> ReadingOut:
    """Entity operation: mark one reading as suspicious."""
    try:
        reading_id = ULID.from_str(entity_id)
    except ValueError:
        raise InvalidULIDError(f"Invalid ULID format: {entity_id}") from None  # a 400 problem
    reading = await manager.find_by_id(reading_id)
    if reading is None:
        raise NotFoundError(f"Reading {entity_id} not found")  # a 404 problem
    return await manager.save(ReadingIn(id=reading.id, station=reading.station, value=reading.value, flagged=True))


readings = CrudRouter("/api/v1/readings", ["Readings"], ReadingIn, ReadingOut, reading_manager)
readings.register_collection_operation("summary", summarize, response_model=ReadingSummary)
readings.register_entity_operation("flag", flag, http_method="POST", response_model=ReadingOut)

app = (
    BaseServiceBuilder(info=ServiceInfo(display_name="Readings", summary="A custom entity with operations"))
    .with_database(DATABASE_URL)
    .with_logging()
    .with_health()
    .include_router(readings.router)
    .build()
)
