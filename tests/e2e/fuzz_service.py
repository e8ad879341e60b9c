"""The service the fuzz test serves: every module of a `ServiceBuilder`, plus a custom entity on SQL.

Run as `uvicorn tests.e2e.fuzz_service:build_app --factory`, with the database URL in
`CHAPKIT_FUZZ_DATABASE_URL`. The numeric fields refuse booleans: pydantic's lax mode takes `true` for
a number, which schemathesis counts as a schema violation; that is the user's model's choice.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import FastAPI
from pydantic import BeforeValidator, Field, StrictFloat

from chapkit import ArtifactHierarchy, BaseConfig, CrudRouter, ServiceBuilder, ServiceInfo
from tests.integration.http.conftest import widget_manager
from tests.support.models import WidgetIn, WidgetOut

DATABASE_URL_ENV = "CHAPKIT_FUZZ_DATABASE_URL"


class FuzzConfig(BaseConfig):
    """A model's settings."""

    epochs: Number
    rate: StrictFloat = 0.1


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a number is required, not a boolean")
    return value


Number = Annotated[int, Field(ge=-(2**31), le=2**31 - 1), BeforeValidator(_not_a_bool)]
"""An integer as JSON Schema sees one (`2.0` included, `true` not), within what an `Integer` column
holds on every backend (32 bits on PostgreSQL; larger is a 400 problem)."""


class StrictWidgetIn(WidgetIn):
    """A widget to store, numbers taken as numbers only."""

    size: Number = 0
    level: Number = 0


def build_app() -> FastAPI:
    """Configs, artifacts (linked to configs), jobs, health, system, info, landing page; widgets on SQL."""
    url = os.environ[DATABASE_URL_ENV]
    builder = (
        ServiceBuilder(info=ServiceInfo(display_name="Fuzzed"))
        .with_database(url)
        .with_health()
        .with_system()
        .with_jobs()
        .with_landing_page()
        .with_config(FuzzConfig)
        .with_artifacts(
            hierarchy=ArtifactHierarchy(name="ml", level_labels={0: "train", 1: "predict"}),
            enable_config_linking=True,
        )
    )
    if not url.startswith("memory:"):
        widgets = CrudRouter("/api/v1/widgets", ["Widgets"], StrictWidgetIn, WidgetOut, widget_manager)
        builder.include_router(widgets.router)
    return builder.build()
