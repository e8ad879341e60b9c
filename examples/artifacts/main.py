"""An artifact hierarchy: trained models at level 0, their predictions at level 1, linked to configs.

Run from the repository root:

    chapkit serve examples.artifacts.main:app

then create a config, a root artifact (`POST /api/v1/artifacts` `{"data": {...}}`), a child
(`{"data": ..., "parent_id": "<root id>"}`), link the config to the root
(`POST /api/v1/configs/{id}/$link-artifact`) and read `GET /api/v1/artifacts/{root id}/$tree`: every
node carries its `level_label`, and the root its config. Storage: `artifacts.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os

from chapkit import ArtifactHierarchy, BaseConfig, ServiceBuilder, ServiceInfo

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///artifacts.db")


class ForecastConfig(BaseConfig):
    """The config a model was trained with."""

    lags: int
    horizon: int = 3


HIERARCHY = ArtifactHierarchy(name="forecast", level_labels={0: "model", 1: "prediction"})
"""Level 0 holds trained models; level 1 their predictions."""

app = (
    ServiceBuilder(info=ServiceInfo(display_name="Forecast artifacts", summary="An artifact hierarchy"))
    .with_database(DATABASE_URL)
    .with_logging()
    .with_health()
    .with_config(ForecastConfig)
    .with_artifacts(hierarchy=HIERARCHY, enable_config_linking=True)
    .build()
)
