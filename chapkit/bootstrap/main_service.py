"""The main job, `python -m chapkit`: a real service on an SQLite file in the working directory.

It is the shape of a model service: typed configs (`ExampleModelConfig`), a tree of artifacts
(trained models and their predictions), jobs, health, system, service info and the landing page, plus
a small `notes` CRUD that shows how a modeller's own entity becomes REST routes. Open
http://127.0.0.1:8000/docs once it runs.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BeforeValidator, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from ulid import ULID

from chapkit.adapters.http import CrudRouter, ServiceInfo
from chapkit.adapters.sql import BaseRepository, Entity
from chapkit.application.manager import BaseManager
from chapkit.bootstrap.dependencies import get_session
from chapkit.bootstrap.module_builder import ServiceBuilder
from chapkit.bootstrap.run import run_app
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.schemas import EntityIn, EntityOut

DEFAULT_URL = "sqlite+aiosqlite:///chapkit.db"


def _not_a_bool(value: object) -> object:
    """Refuse JSON booleans where a number is meant (pydantic's lax mode would read `true` as 1)."""
    if isinstance(value, bool):
        raise ValueError("a number is required, not a boolean")
    return value


Periods = Annotated[int, Field(le=1000), BeforeValidator(_not_a_bool)]
"""A number of periods: an integer as JSON Schema sees one (`2.0` included, `true` not)."""


class ExampleModelConfig(BaseConfig):
    """The settings a modeller's train and predict steps would read."""

    features: list[str] = Field(default_factory=list, description="Input columns the model uses")
    lags: Periods = Field(default=3, ge=0, description="Past periods the model sees")
    horizon: Periods = Field(default=1, ge=1, description="Periods the model predicts")


EXAMPLE_HIERARCHY = ArtifactHierarchy(name="example_model", level_labels={0: "trained_model", 1: "prediction"})


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
        ServiceBuilder(
            info=ServiceInfo(
                display_name="chapkit",
                version="0.1.0",
                summary="An example model service: configs, artifacts, jobs and a notes CRUD on an SQLite file",
            )
        )
        .with_database(database_url)
        .with_logging()
        .with_health()
        .with_system()
        .with_config(ExampleModelConfig)
        .with_artifacts(hierarchy=EXAMPLE_HIERARCHY)
        .with_jobs()
        .with_landing_page()
        .include_router(notes.router)
        .build()
    )


def main_app() -> FastAPI:
    """The main job's app on CHAPKIT_DATABASE_URL (default `chapkit.db` here): the factory each worker imports."""
    return build_main_app(os.environ.get("CHAPKIT_DATABASE_URL", DEFAULT_URL))


def main() -> None:
    """Serve the main job (database from CHAPKIT_DATABASE_URL, address from HOST and PORT, WORKERS processes)."""
    # An import string, so that WORKERS=2 works: each worker process builds the app itself. The app
    # logs every request itself, so uvicorn's access line would repeat it.
    run_app(f"{__name__}:main_app", factory=True, reload=False, access_log=False)


__all__ = [
    "EXAMPLE_HIERARCHY",
    "ExampleModelConfig",
    "Note",
    "NoteIn",
    "NoteOut",
    "build_main_app",
    "main",
    "main_app",
    "note_manager",
]
