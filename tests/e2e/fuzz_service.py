"""The service the fuzz test serves: the main job's model service with every other module switched on.

The main job (`python -m chapkit`: configs, artifacts linked to configs, jobs, `$train`, `$predict`,
`$validate`, `$generate-sample-data`, health, system, info, the landing page, its own `notes` on SQL),
plus tasks (shell and Python), monitoring and a second custom entity on SQL (widgets). Run as
`uvicorn tests.e2e.fuzz_service:build_app --factory`, with the database URL in
`CHAPKIT_FUZZ_DATABASE_URL`. The numeric fields of the widgets refuse booleans and strings: pydantic's lax
mode takes `true` and `"2"` for numbers, which schemathesis counts as schema violations; that is the
user's model's choice.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BeforeValidator, Field

from chapkit import CrudRouter, TaskRegistry
from chapkit.bootstrap.ml_service_builder import MLServiceBuilder
from chapkit.demo.main_service import EXAMPLE_HIERARCHY, INFO, NoteIn, NoteOut, note_manager
from chapkit.demo.model import DiseaseModelConfig, disease_model_runner
from tests.integration.http.conftest import widget_manager
from tests.support.models import WidgetIn, WidgetOut

DATABASE_URL_ENV = "CHAPKIT_FUZZ_DATABASE_URL"


def _a_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a number is required")
    return value


Number = Annotated[int, Field(ge=-(2**31), le=2**31 - 1), BeforeValidator(_a_number)]
"""An integer as JSON Schema sees one (`2.0` included, `true` and `"2"` not), within what an `Integer`
column holds on every backend (32 bits on PostgreSQL)."""


class StrictWidgetIn(WidgetIn):
    """A widget to store, numbers taken as numbers only."""

    size: Number = 0
    level: Number = 0


def task_registry() -> TaskRegistry:
    """The service's Python task functions: one that adds, one that fails."""
    tasks = TaskRegistry()

    @tasks.register("add")
    def add(a: float = 0, b: float = 0) -> dict[str, Any]:
        return {"sum": a + b}

    @tasks.register("fail")
    def fail(reason: str = "asked to") -> None:
        raise ValueError(f"failed because {reason}")

    return tasks


def build_app() -> FastAPI:
    """The main job's service with tasks, monitoring and widgets added (notes and widgets on SQL only)."""
    url = os.environ[DATABASE_URL_ENV]
    builder = (
        MLServiceBuilder(
            info=INFO,
            config_schema=DiseaseModelConfig,
            hierarchy=EXAMPLE_HIERARCHY,
            runner=disease_model_runner(),
            database_url=url,
        )
        .with_tasks(registry=task_registry())
        .with_monitoring()
    )
    if not url.startswith("memory:"):
        builder.include_router(CrudRouter("/api/v1/notes", ["Notes"], NoteIn, NoteOut, note_manager).router)
        widgets = CrudRouter("/api/v1/widgets", ["Widgets"], StrictWidgetIn, WidgetOut, widget_manager)
        builder.include_router(widgets.router)
    return builder.build()
