"""Forecasts as the newer contract stores them: `location`, `time_period` and samples `sample_0..sample_{N-1}`.

chap-core builds its forecast samples from the `sample_*` columns and refuses non-finite values. A model
may return only a point forecast of the service's target column: in the newer contract that forecast
becomes the single sample `sample_0` (the target column is kept beside it). Whatever else a forecast
lacks fails its job with a message saying what to return.

A prediction also keeps the recent history of its target (`forecast_history`): the last
`HISTORY_PERIODS` periods per location from the request's `historic` frame, so that a plot of the
forecast can draw what came before it.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.ml_checks import LOCATION_COLUMN, TIME_PERIOD_COLUMN

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_PREFIX = "sample_"
_SAMPLE = re.compile(r"^sample_(\d+)$")


class ForecastError(ValueError):
    """Predictions that cannot be handed to chap-core (no location or period, no samples, non-finite samples)."""


def sample_columns(columns: list[str]) -> list[str]:
    """The `sample_<n>` columns among `columns`, in sample order."""
    found = [(int(match.group(1)), name) for name in columns if (match := _SAMPLE.match(name))]
    return [name for _, name in sorted(found)]


def as_chap_forecast(predictions: pd.DataFrame, target: str) -> pd.DataFrame:
    """`predictions` as the newer contract needs them; `ForecastError` says what is missing.

    Needs `location` and `time_period`, and samples `sample_0..sample_{N-1}` (numbered from 0 without
    gaps) holding finite numbers; a frame with no samples but a `target` column gets it as `sample_0`.
    """
    import numpy as np
    import pandas as pd

    missing = [name for name in (LOCATION_COLUMN, TIME_PERIOD_COLUMN) if name not in predictions.columns]
    if missing:
        names = " and ".join(f"`{name}`" for name in missing)
        raise ForecastError(
            f"the predictions lack {names}: a forecast for CHAP needs `location`, `time_period` and samples "
            f"`sample_0`..`sample_N` (got columns {list(map(str, predictions.columns))})"
        )
    samples = sample_columns([str(name) for name in predictions.columns])
    if not samples:
        if target not in predictions.columns:
            raise ForecastError(
                f"the predictions have no `sample_0`..`sample_N` columns and no `{target}` column to use as the "
                "single sample: return samples of the forecast distribution (or at least a point forecast of "
                f"`{target}`)"
            )
        predictions = predictions.assign(**{f"{SAMPLE_PREFIX}0": predictions[target]})
        samples = [f"{SAMPLE_PREFIX}0"]
    expected = [f"{SAMPLE_PREFIX}{index}" for index in range(len(samples))]
    if samples != expected:
        raise ForecastError(f"sample columns must be numbered from sample_0 without gaps; got {', '.join(samples)}")
    # Many columns of numpy numbers are checked together (a forecast has hundreds of samples); others one by one.
    counted: dict[str, int] = {}
    if len(samples) > _CHECKED_ONE_BY_ONE:
        positions = {str(name): position for position, name in enumerate(predictions.columns)}
        dtypes = predictions.dtypes
        numbers = [name for name in samples if dtypes.iloc[positions[name]].kind in "iuf"]
        if numbers:
            block = predictions.iloc[:, [positions[name] for name in numbers]].to_numpy(dtype=float)
            counted = dict(zip(numbers, (~np.isfinite(block)).sum(axis=0).tolist(), strict=True))
    for name in samples:
        bad = counted.get(name)
        if bad is None:
            values = pd.to_numeric(predictions[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            bad = int((~np.isfinite(values)).sum())
        if bad:
            raise ForecastError(
                f"`{name}` holds {bad} value(s) that are missing, not numbers or infinite; every sample must be "
                "a finite number"
            )
    return predictions


_CHECKED_ONE_BY_ONE = 16
"""Up to this many sample columns of numbers are checked one by one (taking them together costs more)."""

_JSON_TYPES = {"b": "boolean", "i": "integer", "u": "integer", "f": "number"}


def frame_schema(frame: pd.DataFrame) -> dict[str, Any]:
    """A self-describing schema of a frame's columns, as the newer contract attaches to stored predictions."""
    import pandas as pd

    fields = []
    for position, (name, dtype) in enumerate(zip(frame.columns, frame.dtypes, strict=True)):
        kind = _JSON_TYPES.get(dtype.kind)
        if kind is None and isinstance(dtype, pd.StringDtype) and isinstance(dtype.na_value, float):
            kind = "string"  # holds text and NaN only (the `string` dtype's pd.NA counts as no string)
        if kind is None:
            column = frame.iloc[:, position]
            kind = "string" if column.map(lambda value: isinstance(value, str) or _missing(value)).all() else "any"
        fields.append({"name": str(name), "type": kind})
    return {"fields": fields}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def forecast_content(predictions: pd.DataFrame) -> dict[str, Any]:
    """A forecast as stored content: `{"columns", "data", "schema"}`."""
    frame = PandasDataFrame.from_dataframe(predictions)
    return {"columns": frame.columns, "data": frame.data, "schema": frame_schema(predictions)}


HISTORY_PERIODS = 52
"""How many of the latest periods of the target a prediction keeps per location (a year of weeks)."""


def forecast_history(historic: pd.DataFrame, target: str, periods: int = HISTORY_PERIODS) -> PandasDataFrame | None:
    """The last `periods` rows of `target` per location of a predict request's historic frame.

    Columns `location` (when the frame has one; without it the frame is one series), `time_period` and
    `target`, sorted by location, then by time period (as text: the ISO periods `2024-01` and
    `2024-W01` sort in time order). Values of `target` that are not numbers are kept as missing (`None`).
    `None` when the frame has no `target` or no `time_period` column: there is no history to draw.
    """
    import pandas as pd

    if target not in historic.columns or TIME_PERIOD_COLUMN not in historic.columns:
        return None
    if target in (LOCATION_COLUMN, TIME_PERIOD_COLUMN):
        return None
    keys = [name for name in (LOCATION_COLUMN, TIME_PERIOD_COLUMN) if name in historic.columns]
    frame = historic.loc[:, [*keys, target]].copy()
    frame[target] = pd.to_numeric(frame[target], errors="coerce")
    frame = frame.sort_values(by=keys, key=lambda column: column.astype(str), kind="stable")
    if LOCATION_COLUMN in keys:
        frame = frame.groupby(LOCATION_COLUMN, sort=False, dropna=False).tail(periods)
    else:
        frame = frame.tail(periods)
    return PandasDataFrame.from_dataframe(frame.reset_index(drop=True))


__all__ = [
    "HISTORY_PERIODS",
    "SAMPLE_PREFIX",
    "ForecastError",
    "as_chap_forecast",
    "forecast_content",
    "forecast_history",
    "frame_schema",
    "sample_columns",
]
