"""Forecasts for CHAP: the sample checks and the stored schema, for few and for many sample columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chapkit.domain.forecasts import ForecastError, as_chap_forecast, forecast_content, frame_schema


def _forecast(samples: int, rows: int = 3) -> pd.DataFrame:
    keys = pd.DataFrame({"location": [f"l{i}" for i in range(rows)], "time_period": ["2024-01"] * rows})
    draws = pd.DataFrame(np.arange(rows * samples, dtype=float).reshape(rows, samples)).add_prefix("sample_")
    return pd.concat([keys, draws], axis=1)


@pytest.mark.parametrize("samples", [3, 200])  # checked column by column / many columns together
def test_the_first_sample_with_values_that_are_not_finite_numbers_is_named_with_its_count(samples: int) -> None:
    forecast = _forecast(samples)
    assert as_chap_forecast(forecast, "cases") is forecast
    bad = forecast.copy()
    bad["sample_2"] = [np.inf, np.nan, 1.0]
    bad["sample_1"] = bad["sample_1"].astype(object)
    bad.loc[0, "sample_1"] = "x"
    with pytest.raises(ForecastError, match=r"^`sample_1` holds 1 value\(s\) that are missing"):
        as_chap_forecast(bad, "cases")
    bad.loc[0, "sample_1"] = "1.5"  # text that reads as a number is a number
    with pytest.raises(ForecastError, match=r"^`sample_2` holds 2 value\(s\)"):
        as_chap_forecast(bad, "cases")
    ints = forecast.astype({"sample_0": "int64", "sample_1": "Int64"})
    ints.loc[1, "sample_1"] = pd.NA
    with pytest.raises(ForecastError, match=r"^`sample_1` holds 1 value\(s\)"):
        as_chap_forecast(ints, "cases")


def test_the_schema_names_each_columns_json_type() -> None:
    frame = pd.DataFrame(
        {
            "text": ["a", None],
            "typed_text": pd.Series(["a", None], dtype="str"),
            "text_or_na": pd.Series(["a", None], dtype="string"),
            "text_no_na": pd.Series(["a", "b"], dtype="string"),
            "object_text": pd.Series(["a", np.nan], dtype=object),
            "mixed": pd.Series(["a", 1], dtype=object),
            "category": pd.Categorical(["a", "b"]),
            "when": pd.to_datetime(["2024-01-01", None]),
            "count": [1, 2],
            "value": [1.5, np.nan],
            "flag": [True, False],
        }
    )
    types = {field["name"]: field["type"] for field in frame_schema(frame)["fields"]}
    assert types == {
        "text": "string",
        "typed_text": "string",
        "text_or_na": "any",
        "text_no_na": "string",
        "object_text": "string",
        "mixed": "any",
        "category": "string",
        "when": "any",
        "count": "integer",
        "value": "number",
        "flag": "boolean",
    }
    content = forecast_content(_forecast(2))
    assert content["columns"] == ["location", "time_period", "sample_0", "sample_1"]
    assert content["data"][0] == ["l0", "2024-01", 0.0, 1.0]
    assert [field["type"] for field in content["schema"]["fields"]] == ["string", "string", "number", "number"]
