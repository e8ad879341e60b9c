"""Checks of train and predict requests before they run: what a model service requires of its input.

`ModelRequirements` is what a service declares (through `MLServiceInfo`): the period type of its data,
how many periods it predicts, the covariates it needs and whether it needs geo data. `diagnose_train`
and `diagnose_predict` compare a request with them (and with rules every request must keep: a frame to
train on is not empty) and return `ValidationDiagnostic`s. `$validate` returns them all up front; `$train`
and `$predict` accept a well-formed request (202) and its job fails with the errors' messages, as both
generations of the contract do (rule: a request that breaks the schema is a 422, one whose data cannot
be used is a failed job: a frame whose rows are not all as long as its columns too, which the schema
cannot say, `row_length_mismatch`). The codes are the newer contract's where it has one
(`config_not_found`, `data_empty`, `prediction_periods_out_of_bounds`, ...).

Conventions the checks read from the data, when the columns are there: `time_period` holds periods
(`2024-01` for months, `2024-W01` or `2024W01` for weeks), `location` holds the ids of the geo features.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.errors import ChapkitException, ErrorType
from chapkit.domain.ml import GeoFeatureCollection, PredictRequest, TrainRequest, is_rectangular

TIME_PERIOD_COLUMN = "time_period"
"""The column holding each row's period, when the data has one."""
LOCATION_COLUMN = "location"
"""The column holding each row's location (a geo feature id), when the data has one."""

_PERIOD_PATTERNS = {
    "monthly": re.compile(r"^\d{4}-?(0[1-9]|1[0-2])$"),
    "weekly": re.compile(r"^\d{4}-?W(0[1-9]|[1-4]\d|5[0-3])$"),
}
_PERIOD_EXAMPLES = {"monthly": "2024-01", "weekly": "2024-W01"}
_SHOWN = 5
"""How many offending values a diagnostic's message names."""


class PeriodType(StrEnum):
    """The length of the periods a model's data is given in (chap-core's names; `week`/`month` are read as aliases)."""

    weekly = "weekly"
    """ISO weeks (`2024-W01`)."""
    monthly = "monthly"
    """Calendar months (`2024-01`)."""
    any = "any"
    """Any period length: periods are not checked."""

    @classmethod
    def _missing_(cls, value: object) -> PeriodType | None:
        aliases = {"week": cls.weekly, "month": cls.monthly}
        return aliases.get(value.lower()) if isinstance(value, str) else None


class ModelRequirements(BaseModel):
    """What a model service requires of train and predict requests (declared in `MLServiceInfo`)."""

    model_config = ConfigDict(frozen=True)

    period_type: PeriodType | None = None
    min_prediction_periods: int | None = Field(default=None, ge=0)
    max_prediction_periods: int | None = Field(default=None, ge=0)
    required_covariates: tuple[str, ...] = ()
    requires_geo: bool = False
    target: str = "disease_cases"
    """The column a model forecasts (a point forecast of it becomes `sample_0` in the newer contract)."""

    @model_validator(mode="after")
    def _bounds_in_order(self) -> ModelRequirements:
        low, high = self.min_prediction_periods, self.max_prediction_periods
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_prediction_periods ({low}) exceeds max_prediction_periods ({high})")
        return self


class Severity(StrEnum):
    """How serious a diagnostic is."""

    error = "error"
    """The request would be refused."""
    warning = "warning"
    """The request would run, but probably not as meant."""


class ValidationDiagnostic(BaseModel):
    """One finding about a train or predict request."""

    severity: Severity
    code: str = Field(description="Stable identifier of the finding, e.g. `missing-column`")
    message: str
    field: str | None = Field(default=None, description="The request field concerned, e.g. `data.rainfall`")


class TrainValidation(TrainRequest):
    """A train request to check without running it."""

    type: Literal["train"]


class PredictValidation(PredictRequest):
    """A predict request to check without running it."""

    type: Literal["predict"]


ValidateRequest = Annotated[TrainValidation | PredictValidation, Field(discriminator="type")]
"""The body of `$validate`: a train or predict request with `"type": "train"` or `"type": "predict"`."""


class ValidationResponse(BaseModel):
    """The answer of `$validate`: valid when no diagnostic is an error."""

    valid: bool
    diagnostics: list[ValidationDiagnostic]

    @classmethod
    def of(cls, diagnostics: Sequence[ValidationDiagnostic]) -> ValidationResponse:
        """The response for these diagnostics."""
        return cls(
            valid=not any(item.severity == Severity.error for item in diagnostics), diagnostics=list(diagnostics)
        )


class MLRequestError(ChapkitException, ValueError):
    """A train or predict request whose data the model cannot use: its job fails with this error.

    The message joins the error diagnostics' messages; `diagnostics` lists every finding. Raised as a
    problem (422, naming the field) only where a caller checks a request itself before submitting it.
    """

    def __init__(self, diagnostics: Sequence[ValidationDiagnostic]) -> None:
        errors = [item for item in diagnostics if item.severity == Severity.error]
        first = errors[0] if errors else diagnostics[0]
        super().__init__(
            "; ".join(item.message for item in errors) or first.message,
            type_uri=ErrorType.VALIDATION_FAILED,
            title="Unprocessable Request",
            status=422,
            field=first.field,
            code=first.code,
            diagnostics=[item.model_dump(mode="json") for item in diagnostics],
        )
        self.diagnostics = list(diagnostics)


def error(code: str, message: str, field: str | None) -> ValidationDiagnostic:
    """An error diagnostic."""
    return ValidationDiagnostic(severity=Severity.error, code=code, message=message, field=field)


def warning(code: str, message: str, field: str | None) -> ValidationDiagnostic:
    """A warning diagnostic."""
    return ValidationDiagnostic(severity=Severity.warning, code=code, message=message, field=field)


def has_errors(diagnostics: Iterable[ValidationDiagnostic]) -> bool:
    """Whether any diagnostic is an error."""
    return any(item.severity == Severity.error for item in diagnostics)


def diagnose_train(request: TrainRequest, requirements: ModelRequirements) -> list[ValidationDiagnostic]:
    """Findings about a train request's data and geo, measured against `requirements`."""
    found: list[ValidationDiagnostic] = []
    found += _frame_findings(request.data, "data", requirements, empty_is_error=True)
    found += _geo_findings(request.geo, [(request.data, "data")], requirements)
    return found


def diagnose_predict(request: PredictRequest, requirements: ModelRequirements) -> list[ValidationDiagnostic]:
    """Findings about a predict request's historic and future data and geo, measured against `requirements`."""
    found: list[ValidationDiagnostic] = []
    found += _frame_findings(request.historic, "historic", requirements, empty_is_error=False)
    found += _frame_findings(request.future, "future", requirements, empty_is_error=True)
    frames = [(request.historic, "historic"), (request.future, "future")]
    found += _geo_findings(request.geo, frames, requirements)
    return found


def _frame_findings(
    frame: PandasDataFrame, name: str, requirements: ModelRequirements, *, empty_is_error: bool
) -> list[ValidationDiagnostic]:
    if not is_rectangular(frame):
        return [_row_length_finding(frame, name)]
    found: list[ValidationDiagnostic] = []
    if not frame.row_count:
        make = error if empty_is_error else warning
        found.append(make(f"{name}_empty", f"`{name}` has no rows", name))
    elif not frame.columns:
        found.append(error(f"{name}_empty", f"`{name}` has no columns", name))
    for covariate in requirements.required_covariates:
        if covariate not in frame.columns:
            found.append(
                error("missing_covariate", f"`{name}` lacks the required column `{covariate}`", f"{name}.{covariate}")
            )
            continue
        found += _numeric_findings(frame, name, covariate)
    if requirements.period_type in (PeriodType.weekly, PeriodType.monthly) and TIME_PERIOD_COLUMN in frame.columns:
        found += _period_findings(frame, name, requirements.period_type)
    return found


def _row_length_finding(frame: PandasDataFrame, name: str) -> ValidationDiagnostic:
    """The rows whose number of values differs from the number of columns (the frame's other checks need none)."""
    width = len(frame.columns)
    wrong = [number for number, row in enumerate(frame.data) if len(row) != width]
    shown = ", ".join(f"row {row} has {len(frame.data[row])}" for row in wrong[:_SHOWN])
    more = f" and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else ""
    message = f"`{name}` has {width} column(s), and every row needs one value per column: {shown}{more}"
    return error("row_length_mismatch", message, name)


def _numeric_findings(frame: PandasDataFrame, name: str, column: str) -> list[ValidationDiagnostic]:
    """Required covariates hold numbers; missing values are allowed, with a warning."""
    wrong: list[int] = []
    missing = 0
    values = frame.column_values(column)
    for row_number, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing += 1
        elif isinstance(value, bool) or not isinstance(value, int | float):
            wrong.append(row_number)
    field = f"{name}.{column}"
    found: list[ValidationDiagnostic] = []
    if wrong:
        shown = ", ".join(f"row {row} ({values[row]!r})" for row in wrong[:_SHOWN])
        more = f" and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else ""
        found.append(error("non_numeric_covariate", f"`{field}` must hold numbers: {shown}{more}", field))
    if missing:
        found.append(warning("missing_values", f"`{field}` has {missing} missing value(s)", field))
    return found


def _period_findings(frame: PandasDataFrame, name: str, period_type: PeriodType) -> list[ValidationDiagnostic]:
    pattern = _PERIOD_PATTERNS[period_type.value]
    wrong = [
        value
        for value in frame.column_values(TIME_PERIOD_COLUMN)
        if not (isinstance(value, str) and pattern.match(value))
    ]
    if not wrong:
        return []
    field = f"{name}.{TIME_PERIOD_COLUMN}"
    shown = ", ".join(repr(value) for value in wrong[:_SHOWN])
    example = _PERIOD_EXAMPLES[period_type.value]
    unit = "week" if period_type == PeriodType.weekly else "month"
    message = f"`{field}` must hold {unit}s such as {example!r}; got {shown}"
    return [error("period_type_mismatch", message, field)]


def _feature_ids(geo: GeoFeatureCollection) -> set[str]:
    ids: set[str] = set()
    for feature in geo.features:
        if feature.id is not None:
            ids.add(str(feature.id))
        properties = feature.properties or {}
        for key in ("id", LOCATION_COLUMN):
            if properties.get(key) is not None:
                ids.add(str(properties[key]))
    return ids


def _geo_findings(
    geo: GeoFeatureCollection | None,
    frames: Sequence[tuple[PandasDataFrame, str]],
    requirements: ModelRequirements,
) -> list[ValidationDiagnostic]:
    if geo is None:
        if requirements.requires_geo:
            return [error("geo_required", "this model needs `geo` (a GeoJSON FeatureCollection)", "geo")]
        return []
    known = _feature_ids(geo)
    found: list[ValidationDiagnostic] = []
    for frame, name in frames:
        if LOCATION_COLUMN not in frame.columns or not is_rectangular(frame):
            continue
        unknown = sorted({str(value) for value in frame.column_values(LOCATION_COLUMN)} - known)
        if unknown:
            field = f"{name}.{LOCATION_COLUMN}"
            shown = ", ".join(repr(value) for value in unknown[:_SHOWN])
            more = f" and {len(unknown) - _SHOWN} more" if len(unknown) > _SHOWN else ""
            message = f"`{field}` names locations that no feature of `geo` has as id: {shown}{more}"
            found.append(error("unknown_location", message, field))
    return found


__all__ = [
    "LOCATION_COLUMN",
    "TIME_PERIOD_COLUMN",
    "MLRequestError",
    "ModelRequirements",
    "PeriodType",
    "PredictValidation",
    "Severity",
    "TrainValidation",
    "ValidateRequest",
    "ValidationDiagnostic",
    "ValidationResponse",
    "diagnose_predict",
    "diagnose_train",
    "error",
    "has_errors",
    "warning",
]
