"""The service `bench/distributed.py` runs: a tiny ML model service and a no-op job, on a distributed queue.

Its API processes (`chapkit serve distributed_service:app`) and workers (`chapkit worker
distributed_service:app`) read the database from `CHAPKIT_DATABASE_URL` (or `DATABASE_URL`) and the
jobs backend from `CHAPKIT_JOBS_BACKEND=procrastinate`, as a deployment would. `noop` is the trivial job
the bench submits by reference (`distributed_service:noop`), so workers import it by that name.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from chapkit import ArtifactHierarchy, BaseConfig, FunctionalModelRunner, MLServiceBuilder, MLServiceInfo

DATABASE_URL = (
    os.environ.get("CHAPKIT_DATABASE_URL") or os.environ.get("DATABASE_URL") or "sqlite+aiosqlite:///:memory:"
)


async def noop() -> None:
    """The trivial job: nothing to do, so that what is measured is the queue and the records."""


def train(config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, Any]:
    """The mean of the target: a model of one number."""
    return {"mean": float(data["y"].mean())}


def predict(
    config: BaseConfig, model: dict[str, Any], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """The mean for every future row."""
    return future.assign(y=model["mean"])


app = MLServiceBuilder(
    info=MLServiceInfo(display_name="distributed bench"),
    config_schema=BaseConfig,
    hierarchy=ArtifactHierarchy(name="bench", level_labels={0: "model", 1: "prediction"}),
    runner=FunctionalModelRunner(on_train=train, on_predict=predict),
    database_url=DATABASE_URL,
    include_logging=False,
).build()
