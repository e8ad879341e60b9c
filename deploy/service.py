"""The model service `deploy/compose.yaml` runs: API replicas serve it, worker replicas run its jobs.

Every process imports this module and builds the same app on `DATABASE_URL` (a PostgreSQL URL); with
`CHAPKIT_JOBS_BACKEND=procrastinate` in the environment, `$train` and `$predict` jobs are queued in that
database and run by `chapkit worker service:app` processes (docs/scale-out.md).

    chapkit serve service:app --host 0.0.0.0 --port 8000    # an API process
    chapkit worker service:app                              # a worker process
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from chapkit import ArtifactHierarchy, BaseConfig, FunctionalModelRunner, MLServiceBuilder, MLServiceInfo

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://chapkit:chapkit@db:5432/chapkit")


class MeanConfig(BaseConfig):
    """How the model predicts: the training mean of the target, times `scale`."""

    scale: float = 1.0


def on_train(config: MeanConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
    """The model: the mean of `disease_cases` over the training data."""
    return {"mean": float(data["disease_cases"].mean())}


def on_predict(
    config: MeanConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """Predict the (scaled) training mean for every future row."""
    return future.assign(disease_cases=model["mean"] * config.scale)


app = MLServiceBuilder(
    info=MLServiceInfo(display_name="Scaled-out model service", version="0.1.0"),
    config_schema=MeanConfig,
    hierarchy=ArtifactHierarchy(name="mean_model", level_labels={0: "trained_model", 1: "prediction"}),
    runner=FunctionalModelRunner(on_train=on_train, on_predict=on_predict),
    database_url=DATABASE_URL,
).build()
