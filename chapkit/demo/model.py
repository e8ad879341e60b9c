"""The main job's model: disease cases from rainfall and temperature by least squares (numpy and pandas only).

It is what a modeller writes for chapkit: a config schema and two plain functions, wrapped in a
`FunctionalModelRunner`. Training fits `cases ~ intercept + rainfall + mean_temperature` (the feature
columns are the config's); prediction applies the fit to the future rows and never predicts fewer than
zero cases. Besides that point forecast it draws `samples` forecasts per row from the fit's error
distribution (normal, with the in-sample RMSE), as CHAP needs: `sample_0..sample_{N-1}`. The draws are
seeded from the model and the future frame, so the same request gives the same samples. Training
reports the fit's in-sample RMSE and MAE as metrics (`TrainResult`), stored with the model.

numpy and pandas are imported inside the functions that use them, so a started service that has not
trained or predicted yet does not hold them (about 90 MB; many model services share one host).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field

from chapkit.application.ml_runners import FunctionalModelRunner
from chapkit.domain.config import BaseConfig
from chapkit.domain.trained_models import TrainResult

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

TARGET = "disease_cases"


def _a_number(value: object) -> object:
    """Refuse what JSON does not call a number (pydantic's lax mode would read `false` as 0 and `"2"` as 2)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a number is required")
    return value


class DiseaseModelConfig(BaseConfig):
    """How the demo model is fitted."""

    features: list[str] = Field(
        default_factory=lambda: ["rainfall", "mean_temperature"], min_length=1, description="Covariate columns"
    )
    ridge: Annotated[float, BeforeValidator(_a_number)] = Field(
        default=0.0, ge=0, le=1e6, description="L2 penalty on the coefficients (0: plain OLS)"
    )
    samples: Annotated[int, BeforeValidator(_a_number)] = Field(
        default=100, ge=1, le=1000, description="Forecast samples drawn per predicted row"
    )


def _design(frame: pd.DataFrame, features: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    import numpy as np
    import pandas as pd

    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise ValueError(f"the data lacks the feature column(s) {', '.join(missing)}")
    values = frame[features].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    return np.column_stack([np.ones(len(values)), values])


def train_disease_model(config: DiseaseModelConfig, data: pd.DataFrame, geo: Any = None) -> TrainResult:
    """Fit the least-squares model (rows with a missing value are left out); report its in-sample RMSE and MAE."""
    import numpy as np

    if TARGET not in data.columns:
        raise ValueError(f"the training data needs a `{TARGET}` column")
    usable = data.dropna(subset=[*config.features, TARGET])
    if len(usable) <= len(config.features):
        raise ValueError(f"{len(usable)} complete row(s) are too few to fit {len(config.features)} feature(s)")
    x = _design(usable, config.features)
    y = usable[TARGET].to_numpy(dtype=float)
    penalty = config.ridge * np.eye(x.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not penalised
    coefficients = np.linalg.solve(x.T @ x + penalty, x.T @ y)
    residuals = y - x @ coefficients
    rmse = float(np.sqrt(np.mean(residuals**2)))
    model = {
        "features": list(config.features),
        "intercept": float(coefficients[0]),
        "coefficients": {name: float(value) for name, value in zip(config.features, coefficients[1:], strict=True)},
        "rmse": rmse,
        "rows": len(usable),
    }
    return TrainResult(model, metrics={"rmse": rmse, "mae": float(np.mean(np.abs(residuals)))})


def predict_disease_cases(
    config: DiseaseModelConfig, model: dict[str, Any], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """Predict `disease_cases` for every future row (missing covariates give a missing prediction)."""
    import numpy as np
    import pandas as pd

    features: list[str] = model["features"]
    weights = np.array([model["intercept"], *(model["coefficients"][name] for name in features)])
    predicted = _design(future, features) @ weights
    out = future.copy()
    out[TARGET] = np.clip(predicted, 0.0, None)
    rng = np.random.default_rng(_seed(model, future))
    noise = rng.normal(0.0, max(float(model["rmse"]), 1e-9), size=(len(out), config.samples))
    draws = np.clip(predicted[:, None] + noise, 0.0, None)
    samples = pd.DataFrame(draws, columns=[f"sample_{index}" for index in range(config.samples)], index=out.index)
    return pd.concat([out, samples], axis=1)


def _seed(model: dict[str, Any], future: pd.DataFrame) -> int:
    """A seed from the model and the future frame: the same request draws the same samples."""
    digest = hashlib.sha256(json.dumps(model, sort_keys=True, default=str).encode())
    digest.update(future.to_json(orient="split", index=False).encode())
    return int.from_bytes(digest.digest()[:8], "big")


def disease_model_runner() -> FunctionalModelRunner[DiseaseModelConfig]:
    """The demo model as a runner."""
    return FunctionalModelRunner(on_train=train_disease_model, on_predict=predict_disease_cases)


__all__ = [
    "TARGET",
    "DiseaseModelConfig",
    "disease_model_runner",
    "predict_disease_cases",
    "train_disease_model",
]
