"""A model service from two functions: `FunctionalModelRunner(on_train=..., on_predict=...)`.

The model is a least-squares fit of `disease_cases` on the config's features (plus an intercept).
Plain functions run on a worker thread; `async def` ones run on the event loop. Run from the
repository root:

    chapkit serve examples.ml_functional.main:app

then create a config, `POST /api/v1/ml/$train` (202: `job_id`, `model_artifact_id`), wait for the job,
`POST /api/v1/ml/$predict` (202: `job_id`, `prediction_artifact_id`) and read the predictions at
`GET /api/v1/artifacts/{prediction_artifact_id}`. Sample request bodies:
`chapkit/demo/samples/train.json` and `predict.json`. Storage: `ml_functional.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from chapkit import ArtifactHierarchy, BaseConfig, FunctionalModelRunner, MLServiceBuilder, MLServiceInfo

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///ml_functional.db")


class RegressionConfig(BaseConfig):
    """Which columns predict `disease_cases`."""

    features: list[str] = Field(default_factory=lambda: ["rainfall", "mean_temperature"])


def _design(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    """The feature columns with a column of ones for the intercept."""
    return np.column_stack([np.ones(len(frame)), frame[features].to_numpy(dtype=float)])


def on_train(config: RegressionConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, Any]:
    """Fit the coefficients; the returned dict (any picklable object) becomes the model artifact."""
    coefficients, *_ = np.linalg.lstsq(_design(data, config.features), data["disease_cases"].to_numpy(float))
    return {"features": config.features, "coefficients": coefficients.tolist()}


def on_predict(
    config: RegressionConfig, model: dict[str, Any], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """Predict `disease_cases` for the future periods; the DataFrame becomes the prediction artifact."""
    predicted = _design(future, model["features"]) @ np.asarray(model["coefficients"])
    return future.assign(disease_cases=predicted.round(2))


app = MLServiceBuilder(
    info=MLServiceInfo(display_name="Functional regression", summary="FunctionalModelRunner"),
    config_schema=RegressionConfig,
    hierarchy=ArtifactHierarchy(name="regression", level_labels={0: "trained_model", 1: "prediction"}),
    runner=FunctionalModelRunner(on_train=on_train, on_predict=on_predict),
    database_url=DATABASE_URL,
).build()
