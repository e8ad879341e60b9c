"""The demo model reports its in-sample RMSE and MAE with the model it trains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chapkit import TrainResult
from chapkit.demo.model import DiseaseModelConfig, predict_disease_cases, train_disease_model


def test_the_demo_model_reports_its_in_sample_rmse_and_mae() -> None:
    data = pd.DataFrame(
        {
            "rainfall": [10.0, 20.0, 30.0, 40.0, 50.0],
            "mean_temperature": [20.0, 22.0, 21.0, 25.0, 23.0],
            "disease_cases": [5.0, 9.0, 14.0, 16.0, 25.0],
        }
    )
    result = train_disease_model(DiseaseModelConfig(), data)

    assert isinstance(result, TrainResult) and set(result.metrics) == {"rmse", "mae"}
    model = result.model
    fitted = predict_disease_cases(DiseaseModelConfig(samples=1), model, data, data)["disease_cases"]
    residuals = data["disease_cases"].to_numpy() - fitted.to_numpy()
    assert result.metrics["rmse"] == pytest.approx(float(np.sqrt(np.mean(residuals**2))))
    assert result.metrics["mae"] == pytest.approx(float(np.mean(np.abs(residuals))))
    assert 0 < result.metrics["mae"] <= result.metrics["rmse"] == model["rmse"]
