"""Request checks against `ModelRequirements`, and `PandasDataFrame`'s shape and missing values (pure)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ConfigDict, ValidationError

from chapkit.domain.config import BaseConfig
from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.ml import RunInfo, TrainRequest
from chapkit.domain.ml_checks import ModelRequirements, ValidationResponse, diagnose_train
from chapkit.domain.ml_horizon import HorizonSource, future_periods, horizon_findings, resolve_horizon, run_settings

CONFIG = "01K0000000000000000000000Z"


def train_request(columns: list[str], rows: list[list[object]], geo: object = None) -> TrainRequest:
    return TrainRequest.model_validate({"config_id": CONFIG, "data": {"columns": columns, "data": rows}, "geo": geo})


def codes(found: list) -> set[tuple[str, str | None]]:  # type: ignore[type-arg]
    return {(item.code, item.field) for item in found}


def test_a_plain_request_has_no_findings() -> None:
    assert diagnose_train(train_request(["x"], [[1]]), ModelRequirements()) == []


def test_required_covariates_present_and_numeric() -> None:
    needs = ModelRequirements(required_covariates=("rain", "temp"))
    found = diagnose_train(train_request(["rain"], [[1.0], ["wet"], [None], [True]]), needs)
    assert codes(found) == {
        ("missing_covariate", "data.temp"),
        ("non_numeric_covariate", "data.rain"),
        ("missing_values", "data.rain"),
    }
    non_numeric = next(item for item in found if item.code == "non_numeric_covariate")
    assert "row 1 ('wet')" in non_numeric.message and "row 3 (True)" in non_numeric.message
    assert not ValidationResponse.of(found).valid
    only_warnings = diagnose_train(train_request(["rain", "temp"], [[None, 1.0]]), needs)
    assert ValidationResponse.of(only_warnings).valid


@pytest.mark.parametrize(
    ("period_type", "good", "bad"),
    [("month", "2024-12", "2024-13"), ("week", "2024-W53", "2024-12"), ("week", "2024W01", "2024-W54")],
)
def test_periods_of_the_declared_type(period_type: str, good: str, bad: str) -> None:
    needs = ModelRequirements(period_type=period_type)  # type: ignore[arg-type]
    assert diagnose_train(train_request(["time_period"], [[good]]), needs) == []
    assert codes(diagnose_train(train_request(["time_period"], [[bad]]), needs)) == {
        ("period_type_mismatch", "data.time_period")
    }


def test_the_horizon_comes_from_run_info_then_the_future_then_the_config() -> None:
    class Horizon(BaseConfig):
        prediction_periods: int = 5

    needs = ModelRequirements(min_prediction_periods=2, max_prediction_periods=3)
    future = PandasDataFrame(
        columns=["time_period", "location"], data=[["2024-01", "a"], ["2024-01", "b"], ["2024-02", "a"]]
    )
    assert future_periods(future) == 2
    assert resolve_horizon(Horizon(), RunInfo(prediction_length=3), future) == (3, HorizonSource.run_info)
    assert resolve_horizon(Horizon(), None, future) == (2, HorizonSource.future)
    assert resolve_horizon(Horizon(), None, None) == (5, HorizonSource.config)
    assert resolve_horizon(BaseConfig(), None, None) is None
    assert horizon_findings(Horizon(), None, future, needs) == []
    assert codes(horizon_findings(Horizon(), None, None, needs)) == {
        ("prediction_periods_out_of_bounds", "config.prediction_periods")
    }
    mismatch = horizon_findings(Horizon(), RunInfo(prediction_periods=3), future, needs)
    assert codes(mismatch) == {("prediction_periods_mismatch", "run_info.prediction_periods")}
    assert ValidationResponse.of(mismatch).valid
    settings = run_settings(Horizon, RunInfo(prediction_periods=3, additional_continuous_covariates=["rain"]), None)
    assert settings == {"prediction_periods": 3, "additional_continuous_covariates": ["rain"]}
    run = Horizon.model_validate({"prediction_periods": 5, **settings})
    assert run.prediction_periods == 3 and run.model_extra == {"additional_continuous_covariates": ["rain"]}
    assert run_settings(Horizon, None, future) == {"prediction_periods": 2}
    assert run_settings(Horizon, None, None) == {}  # the config's own horizon needs no setting


def test_run_settings_only_name_fields_the_schema_takes() -> None:
    class Closed(BaseConfig):
        model_config = ConfigDict(extra="ignore")

    class Declared(Closed):
        prediction_periods: int = 1

    asked = RunInfo(prediction_periods=4, additional_continuous_covariates=["rain"])
    assert run_settings(Closed, asked, None) == {}
    assert run_settings(Declared, asked, None) == {"prediction_periods": 4}
    assert run_settings(BaseConfig, RunInfo(), None) == {}


def test_a_horizon_below_one_is_out_of_bounds_whatever_the_minimum() -> None:
    """chap-core's default minimum is 0; a horizon of 0 would fail the job unreadably (no config takes it)."""
    for periods in (0, -3):
        found = horizon_findings(BaseConfig(), RunInfo(prediction_periods=periods), None, ModelRequirements())
        assert codes(found) == {("prediction_periods_out_of_bounds", "run_info.prediction_periods")}
        assert "must be at least 1" in found[0].message


def test_locations_must_name_geo_features() -> None:
    geo = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": "a", "geometry": None, "properties": {}},
            {"type": "Feature", "geometry": None, "properties": {"id": "b"}},
        ],
    }
    assert diagnose_train(train_request(["location"], [["a"], ["b"]], geo), ModelRequirements()) == []
    found = diagnose_train(train_request(["location"], [["a"], ["c"]], geo), ModelRequirements())
    assert codes(found) == {("unknown_location", "data.location")}
    assert codes(diagnose_train(train_request(["x"], [[1]]), ModelRequirements(requires_geo=True))) == {
        ("geo_required", "geo")
    }


def test_requirements_refuse_min_above_max() -> None:
    with pytest.raises(ValidationError, match="exceeds"):
        ModelRequirements(min_prediction_periods=3, max_prediction_periods=1)


def test_frames_refuse_rows_of_another_length_and_repeated_columns() -> None:
    with pytest.raises(ValidationError, match="row 0 has 1 values for 2 columns"):
        PandasDataFrame(columns=["a", "b"], data=[[1]])
    with pytest.raises(ValidationError, match="unique"):
        PandasDataFrame(columns=["a", "a"], data=[[1, 2]])
    with pytest.raises(ValueError, match="unique"):
        PandasDataFrame.from_dataframe(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_missing_values_and_infinities_travel_as_null_and_come_back_as_nan() -> None:
    frame = pd.DataFrame({"n": [1, 2], "x": [1.5, math.nan], "y": [math.inf, -math.inf], "s": ["a", None]})
    wrapped = PandasDataFrame.from_dataframe(frame)
    assert wrapped.data == [[1, 1.5, None, "a"], [2, None, None, None]]
    back = PandasDataFrame.model_validate_json(wrapped.model_dump_json()).to_dataframe()
    assert back["n"].tolist() == [1, 2] and math.isnan(back["x"][1]) and back["y"].isna().all()
