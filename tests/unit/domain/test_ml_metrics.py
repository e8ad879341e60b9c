"""`TrainResult` and `validated_metrics`: what a training may report, checked when the result is made."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from chapkit.domain.trained_models import MAX_METRIC_NAME_LENGTH, MAX_METRICS, TrainResult, validated_metrics


def test_metrics_are_kept_as_floats_in_a_new_dict() -> None:
    given: dict[str, Any] = {"rmse": np.float32(1.5), "rows": np.int64(3), "mae": 2, "share": Fraction(1, 4)}
    checked = validated_metrics(given)
    assert checked == {"rmse": 1.5, "rows": 3.0, "mae": 2.0, "share": 0.25}
    assert all(type(value) is float for value in checked.values())
    assert checked is not given


def test_a_train_result_checks_its_metrics_and_cannot_be_changed() -> None:
    model = {"slope": 2.0}
    result = TrainResult(model, metrics={"rmse": 1})
    assert result.model is model and result.metrics == {"rmse": 1.0}
    assert TrainResult(model).metrics == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.metrics = {}  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"^invalid metrics: metric 'rmse' must be a finite number, got -inf$"):
        TrainResult(model, metrics={"rmse": float("-inf")})


def test_the_bounds_are_inclusive() -> None:
    assert len(validated_metrics({f"m{index}": index for index in range(MAX_METRICS)})) == MAX_METRICS
    assert validated_metrics({"x" * MAX_METRIC_NAME_LENGTH: 1.0})
    with pytest.raises(ValueError, match="is longer than"):
        validated_metrics({"x" * (MAX_METRIC_NAME_LENGTH + 1): 1.0})
    with pytest.raises(ValueError, match="at most 100"):
        validated_metrics({f"m{index}": index for index in range(MAX_METRICS + 1)})


@pytest.mark.parametrize(
    "value",
    [np.bool_(True), None, "1", [1.0], complex(1, 0), np.float64("nan")],
    ids=["numpy-bool", "none", "string", "list", "complex", "numpy-nan"],
)
def test_what_is_no_metric_value(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^invalid metrics.json: metric 'm' must be"):
        validated_metrics({"m": value}, source="metrics.json")
