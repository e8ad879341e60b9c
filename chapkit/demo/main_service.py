"""The main job, `python -m chapkit`: a model service on an SQLite file in the working directory.

It predicts disease cases from rainfall and temperature (`chapkit.demo.model`): create a
config, `POST /api/v1/ml/$train` with data, `POST /api/v1/ml/$predict` with the model artifact id,
and read the predictions as the model's child artifact. Sample payloads ship in
`chapkit/demo/samples/` (`train.json`, `predict.json`). Configs, artifacts with config linking,
jobs, health, system, service info and the landing page are on, plus a small `notes` CRUD that shows
how a modeller's own entity becomes REST routes. Open http://127.0.0.1:8000/docs once it runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from ulid import ULID

from chapkit.adapters.http import CrudRouter
from chapkit.adapters.http.ml_info import AssessedStatus, MLServiceInfo
from chapkit.adapters.sql import BaseRepository, Entity
from chapkit.application.manager import BaseManager
from chapkit.bootstrap.dependencies import get_session
from chapkit.bootstrap.ml_service_builder import MLServiceBuilder
from chapkit.demo.model import DiseaseModelConfig, disease_model_runner
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.schemas import EntityIn, EntityOut

DEFAULT_URL = "sqlite+aiosqlite:///chapkit.db"
SAMPLES = Path(__file__).resolve().parent / "samples"
"""`train.json` and `predict.json`: request bodies for `$train` and `$predict` (ids to fill in)."""

EXAMPLE_HIERARCHY = ArtifactHierarchy(name="disease_model", level_labels={0: "trained_model", 1: "prediction"})

INFO = MLServiceInfo(
    display_name="chapkit",
    version="0.1.0",
    summary="A demo model service: disease cases from rainfall and temperature (least squares)",
    description=(
        "Create a config, train on monthly data with `rainfall`, `mean_temperature` and `disease_cases`, "
        "then predict `disease_cases` for future months. Sample bodies: chapkit/demo/samples/."
    ),
    author="chapkit",
    author_assessed_status=AssessedStatus.red,
    period_type="monthly",
    min_prediction_periods=1,
    max_prediction_periods=24,
    required_covariates=["rainfall", "mean_temperature"],
)


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
        MLServiceBuilder(
            info=INFO,
            config_schema=DiseaseModelConfig,
            hierarchy=EXAMPLE_HIERARCHY,
            runner=disease_model_runner(),
            database_url=database_url,
        )
        .include_router(notes.router)
        .build()
    )


def main_app() -> FastAPI:
    """The main job's app on CHAPKIT_DATABASE_URL (default `chapkit.db` here): the factory each worker imports."""
    return build_main_app(os.environ.get("CHAPKIT_DATABASE_URL", DEFAULT_URL))


__all__ = [
    "EXAMPLE_HIERARCHY",
    "INFO",
    "SAMPLES",
    "DiseaseModelConfig",
    "Note",
    "NoteIn",
    "NoteOut",
    "build_main_app",
    "main_app",
    "note_manager",
]
