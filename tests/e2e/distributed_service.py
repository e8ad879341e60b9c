"""The model service of the scale-out test: two API processes and two workers serve it on one database.

Training writes what it does to the file named by `CHAPKIT_E2E_RUNS` (one line per event, with the
job's tag and the worker's pid), so the test sees which worker ran which job, how often, and whether a
cancel reached it. `seconds` in the config makes a job long enough to cancel or to kill mid-way. Shell
tasks are on too, to cancel a command running on a worker.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pandas as pd

from chapkit import ArtifactHierarchy, BaseConfig, FunctionalModelRunner, MLServiceBuilder, MLServiceInfo


class SlowMeanConfig(BaseConfig):
    """How long training takes."""

    seconds: float = 0.0


def _note(event: str, tag: object) -> None:
    with Path(os.environ["CHAPKIT_E2E_RUNS"]).open("a") as runs:
        runs.write(f"{event} {tag} {os.getpid()}\n")


async def on_train(config: SlowMeanConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
    """Note the start, wait `seconds`, note the end (or the cancel): the model is the mean of `y`."""
    tag = data["tag"].iloc[0]
    _note("start", tag)
    try:
        await asyncio.sleep(config.seconds)
    except asyncio.CancelledError:
        _note("cancelled", tag)
        raise
    _note("done", tag)
    return {"mean": float(data["y"].mean())}


async def on_predict(
    config: SlowMeanConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """Predict the mean."""
    return future.assign(y=model["mean"])


app = (
    MLServiceBuilder(
        info=MLServiceInfo(display_name="Scale-out test"),
        config_schema=SlowMeanConfig,
        hierarchy=ArtifactHierarchy(name="slow_mean", level_labels={0: "trained_model", 1: "prediction"}),
        runner=FunctionalModelRunner(on_train=on_train, on_predict=on_predict),
        database_url=os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///:memory:"),
    )
    .with_jobs(heartbeat_interval=0.5, stale_after=4)
    .with_tasks()
    .build()
)
