"""A model runner as a class: `BaseModelRunner` with `on_init`, `on_train`, `on_predict` and `on_cleanup`.

chapkit calls `on_init()` before every train or predict run and `on_cleanup()` after it, also when the
run fails or is canceled: the place to open and release what a run needs (here a scratch directory and
a counter of runs). The model predicts each location's mean of the last `window` periods, scaled by
`growth`. Run from the repository root:

    chapkit serve examples.ml_class.main:app

and use it as the functional example (`$train`, `$predict`; sample bodies in
`chapkit/demo/samples/`). Storage: `ml_class.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from chapkit import ArtifactHierarchy, BaseConfig, BaseModelRunner, MLServiceBuilder, MLServiceInfo, get_logger

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///ml_class.db")

logger = get_logger(__name__)


class MeanConfig(BaseConfig):
    """The window the mean is taken over, and a growth factor applied to it."""

    window: int = 6
    growth: float = 1.0


class LocationMeanRunner(BaseModelRunner):
    """Per-location mean of recent `disease_cases`, with a scratch directory held for each run."""

    def __init__(self) -> None:
        self.runs = 0
        self.scratch: Path | None = None

    async def on_init(self) -> None:
        """Before every run: make the scratch directory."""
        self.scratch = Path(tempfile.mkdtemp(prefix="ml_class_"))
        self.runs += 1
        logger.info("runner.init", run=self.runs, scratch=str(self.scratch))

    async def on_cleanup(self) -> None:
        """After every run, whatever happened: remove the scratch directory."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        logger.info("runner.cleanup", run=self.runs)

    async def on_train(self, config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, Any]:
        """The model: each location's mean over the last `window` periods."""
        assert isinstance(config, MeanConfig)
        recent = data.sort_values("time_period").groupby("location").tail(config.window)
        means = recent.groupby("location")["disease_cases"].mean()
        return {"means": {str(location): float(mean) for location, mean in means.items()}, "runs": self.runs}

    async def on_predict(
        self, config: BaseConfig, model: Any, historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
    ) -> pd.DataFrame:
        """Every future period of a location gets its mean, times `growth`."""
        assert isinstance(config, MeanConfig)
        means = future["location"].map(model["means"]).fillna(0.0)
        return future.assign(disease_cases=(means * config.growth).round(2))


app = MLServiceBuilder(
    info=MLServiceInfo(display_name="Location means", summary="A BaseModelRunner subclass"),
    config_schema=MeanConfig,
    hierarchy=ArtifactHierarchy(name="location_mean", level_labels={0: "trained_model", 1: "prediction"}),
    runner=LocationMeanRunner(),
    database_url=DATABASE_URL,
).build()
