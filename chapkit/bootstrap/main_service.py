"""The main job, `python -m chapkit`: a real service on an SQLite file in the working directory.

It serves health, system, jobs, service info and the landing page, plus a small `notes` CRUD that
shows how a modeller's own entity becomes REST routes. Open http://127.0.0.1:8000/docs once it runs.
"""

from __future__ import annotations

import os

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from ulid import ULID

from chapkit.adapters.http import CrudRouter, ServiceInfo
from chapkit.adapters.sql import BaseRepository, Entity
from chapkit.application.manager import BaseManager
from chapkit.bootstrap.dependencies import get_session
from chapkit.bootstrap.run import run_app
from chapkit.bootstrap.service_builder import BaseServiceBuilder
from chapkit.domain.schemas import EntityIn, EntityOut

DEFAULT_URL = "sqlite+aiosqlite:///chapkit.db"


class Note(Entity):
    """A note, as a modeller's own table would be declared."""

    __tablename__ = "notes"

    text: Mapped[str]


class NoteIn(EntityIn):
    """A note to store."""

    text: str


class NoteOut(NoteIn, EntityOut):
    """A stored note."""


async def note_manager(session: AsyncSession = Depends(get_session)) -> BaseManager[Note, NoteIn, NoteOut, ULID]:
    """The notes manager for one request."""
    return BaseManager(BaseRepository(session, Note), Note, NoteOut)


def build_main_app(database_url: str = DEFAULT_URL) -> FastAPI:
    """Build the main job's service on `database_url`."""
    notes = CrudRouter("/api/v1/notes", ["Notes"], NoteIn, NoteOut, note_manager)
    return (
        BaseServiceBuilder(
            info=ServiceInfo(
                display_name="chapkit",
                version="0.1.0",
                summary="A chapkit service: health, system, jobs and a notes CRUD on an embedded SQLite file",
            )
        )
        .with_database(database_url)
        .with_logging()
        .with_health()
        .with_system()
        .with_jobs()
        .with_landing_page()
        .include_router(notes.router)
        .build()
    )


def main() -> None:
    """Serve the main job (database from CHAPKIT_DATABASE_URL, address from HOST and PORT)."""
    run_app(build_main_app(os.environ.get("CHAPKIT_DATABASE_URL", DEFAULT_URL)))


__all__ = ["Note", "NoteIn", "NoteOut", "build_main_app", "main", "note_manager"]
