"""The forecast horizon of a train or predict request, resolved as the newer contract does (D24).

The horizon comes from the request's `run_info.prediction_periods`; else, at predict, from the future
frame (the most distinct periods any one location has); else from the config's `prediction_periods`,
when the config has one. It is checked against the bounds the service declares. The model gets a copy
of its config carrying the request's horizon and additional covariates (`run_settings`, validated with
the stored config's data in one go); the stored config is never changed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chapkit.domain.config import ADDITIONAL_CONTINUOUS_COVARIATES as COVARIATES
from chapkit.domain.config import PREDICTION_PERIODS, BaseConfig
from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.ml import RunInfo, is_rectangular
from chapkit.domain.ml_checks import (
    LOCATION_COLUMN,
    TIME_PERIOD_COLUMN,
    ModelRequirements,
    ValidationDiagnostic,
    error,
    warning,
)


class HorizonSource(StrEnum):
    """Where a resolved horizon came from, in order of precedence."""

    run_info = "run_info"
    future = "future"
    config = "config"


_FIELDS = {
    HorizonSource.run_info: "run_info.prediction_periods",
    HorizonSource.future: "future",
    HorizonSource.config: "config.prediction_periods",
}


def future_periods(future: PandasDataFrame) -> int | None:
    """The horizon a future frame implies: the most distinct `time_period`s of one location; `None` without periods."""
    if TIME_PERIOD_COLUMN not in future.columns or not future.row_count or not is_rectangular(future):
        return None
    period_values = future.column_values(TIME_PERIOD_COLUMN)
    if LOCATION_COLUMN in future.columns:
        location_values: list[Any] = future.column_values(LOCATION_COLUMN)
    else:
        location_values = [None] * len(period_values)
    periods: dict[Any, set[Any]] = {}
    for location, period in zip(location_values, period_values, strict=True):
        periods.setdefault(_hashable(location), set()).add(_hashable(period))
    return max(len(seen) for seen in periods.values())


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


def _requested_horizon(run_info: RunInfo | None, future: PandasDataFrame | None) -> tuple[int, HorizonSource] | None:
    """The horizon the request itself gives (`run_info`'s, else the future frame's), and where it came from."""
    if run_info is not None and run_info.prediction_periods is not None:
        return run_info.prediction_periods, HorizonSource.run_info
    if future is not None:
        derived = future_periods(future)
        if derived is not None:
            return derived, HorizonSource.future
    return None


def resolve_horizon(
    config: BaseConfig, run_info: RunInfo | None, future: PandasDataFrame | None
) -> tuple[int, HorizonSource] | None:
    """The request's horizon and where it came from; `None` when neither the request nor the config gives one."""
    requested = _requested_horizon(run_info, future)
    if requested is not None:
        return requested
    configured = getattr(config, PREDICTION_PERIODS, None)
    if isinstance(configured, int) and not isinstance(configured, bool):
        return configured, HorizonSource.config
    return None


def horizon_findings(
    config: BaseConfig,
    run_info: RunInfo | None,
    future: PandasDataFrame | None,
    requirements: ModelRequirements,
) -> list[ValidationDiagnostic]:
    """The resolved horizon outside the declared bounds (error), or disagreeing with the future frame (warning)."""
    resolved = resolve_horizon(config, run_info, future)
    if resolved is None:
        return []
    periods, source = resolved
    field = _FIELDS[source]
    low, high = requirements.min_prediction_periods, requirements.max_prediction_periods
    found: list[ValidationDiagnostic] = []
    if low is not None and periods < low:
        message = f"prediction_periods ({periods}, from {source}) is below the minimum this model predicts ({low})"
        found.append(error("prediction_periods_out_of_bounds", message, field))
    elif periods < 1:  # whatever the bounds say (chap-core's default minimum is 0): no config takes it
        message = f"prediction_periods ({periods}, from {source}) must be at least 1"
        found.append(error("prediction_periods_out_of_bounds", message, field))
    elif high is not None and periods > high:
        message = f"prediction_periods ({periods}, from {source}) exceeds the maximum this model predicts ({high})"
        found.append(error("prediction_periods_out_of_bounds", message, field))
    if source == HorizonSource.run_info and future is not None:
        derived = future_periods(future)
        if derived is not None and derived != periods:
            message = f"run_info.prediction_periods is {periods} but `future` covers {derived} period(s)"
            found.append(warning("prediction_periods_mismatch", message, "run_info.prediction_periods"))
    return found


def run_settings(schema: type[BaseConfig], run_info: RunInfo | None, future: PandasDataFrame | None) -> dict[str, Any]:
    """What a request sets in the config its model runs with: its own horizon and its additional covariates.

    The stored config's data and these settings are validated into `schema` together, once, giving the
    model its copy of the config (the stored config is unchanged). A horizon the config gives itself
    needs no setting. A setting is made only when `schema` declares the field or accepts extra fields,
    so a config class that forbids unknown fields never receives one.
    """
    settings: dict[str, Any] = {}
    requested = _requested_horizon(run_info, future)
    if requested is not None and _accepts(schema, PREDICTION_PERIODS):
        settings[PREDICTION_PERIODS] = requested[0]
    if run_info is not None and run_info.additional_continuous_covariates and _accepts(schema, COVARIATES):
        settings[COVARIATES] = list(run_info.additional_continuous_covariates)
    return settings


def _accepts(schema: type[BaseConfig], name: str) -> bool:
    return name in schema.model_fields or schema.model_config.get("extra") == "allow"


__all__ = [
    "HorizonSource",
    "future_periods",
    "horizon_findings",
    "resolve_horizon",
    "run_settings",
]
