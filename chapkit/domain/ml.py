"""ML train/predict: the model runner port, the runner base class, and the schemas of the ML API.

`ModelRunnerProtocol` is the port the ML use case (`MLManager`) calls, defined once; `BaseModelRunner`
is that port as the abstract base class users subclass. Runners that need I/O or a thread live outside
the domain: `FunctionalModelRunner` in `chapkit.application.ml_runners` (it runs synchronous functions
on a worker thread), and `ShellModelRunner` in the `chapkit.adapters.runners` adapter (it starts
processes, D23).

What a train function returns and how a trained model is stored (`TrainResult`, `PickledModel`, the
metadata helpers) are in `chapkit.domain.trained_models`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

from geojson_pydantic import FeatureCollection
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from chapkit.domain.config import BaseConfig
from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.ids import ULIDText, ULIDValue
from chapkit.domain.ml_artifacts import ContractGeneration

if TYPE_CHECKING:
    import pandas as pd

# geojson-pydantic's `FeatureCollection` as the reference uses it, unparametrized at run time:
# `FeatureCollection[Any]` would be another pydantic class that copies every collection it validates.
if TYPE_CHECKING:
    GeoFeatureCollection: TypeAlias = FeatureCollection[Any]
else:
    GeoFeatureCollection = FeatureCollection


class ModelRunnerProtocol(Protocol):
    """The model runner port: what the ML use case (`MLManager`) calls, the one definition of it.

    `on_train` and `on_predict` are what a runner does. `on_init()` and `on_cleanup()` are its lifecycle
    hooks, which do nothing unless a runner overrides them: the caller calls `on_init()` before every
    `on_train` / `on_predict` and `on_cleanup()` after it, also when training or prediction raises or
    is cancelled; `on_cleanup()` is not called when `on_init()` itself raises
    (`chapkit.application.ml_runners.model_runner_hooks` is that call sequence).

    Subclass `BaseModelRunner` to implement it. A runner that does not, and has only `on_train` and
    `on_predict` (duck typed), is accepted as well: the caller gives it hooks that do nothing
    (`chapkit.application.ml_runners.as_model_runner`).
    """

    async def on_init(self) -> None:
        """Optional initialization hook called before training or prediction; does nothing by default."""
        return None  # a body (not just a docstring), so that type checkers do not take the hook for abstract

    async def on_cleanup(self) -> None:
        """Optional cleanup hook called after training or prediction, succeeded or not; does nothing by default."""
        return None

    @abstractmethod
    async def on_train(
        self,
        config: BaseConfig,
        data: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> Any:
        """Train a model and return the trained model object (must be pickleable), or a `TrainResult`.

        The object is stored in the trained-model artifact; a failure is raised as an exception and
        fails the training job. Return `TrainResult(model, metrics={...})` to report metrics with the
        model: they are stored as JSON next to it (`TrainedModelArtifactData.metrics`).
        """

    @abstractmethod
    async def on_predict(
        self,
        config: BaseConfig,
        model: Any,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> pd.DataFrame:
        """Make predictions using a trained model and return predictions as DataFrame.

        `model` is the object `on_train` returned (as stored in the artifact and read back).
        """


class BaseModelRunner(ModelRunnerProtocol, ABC):
    """Abstract base class for model runners with lifecycle hooks: the port `ModelRunnerProtocol` to subclass.

    A subclass implements `on_train` and `on_predict` (one without them cannot be made) and may override
    the hooks `on_init()` and `on_cleanup()`, which do nothing by default; the port says when the caller
    calls them.
    """


def refuse_booleans_in_coordinates(value: Any) -> Any:
    """Refuse `true`/`false` inside GeoJSON `coordinates` and `bbox` (pydantic's lax mode reads them as 1 and 0)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key in ("coordinates", "bbox") and _holds_a_boolean(child):
                    raise ValueError(f"GeoJSON `{key}` must hold numbers, not booleans")
                if isinstance(child, dict | list):
                    pending.append(child)
        elif isinstance(item, list):
            pending.extend(child for child in item if isinstance(child, dict | list))
    return value


def _holds_a_boolean(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, bool):
            return True
        if isinstance(item, list):
            pending.extend(item)
    return False


_ROWS: TypeAdapter[list[list[Any]]] = TypeAdapter(list[list[Any]])


def keep_ragged_rows(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Take a request's frame whose rows are not all as long as its columns as it is, for its job to refuse.

    The schema cannot say that every row has one value per column, so such a frame is well formed:
    data the model cannot use (the job fails with `row_length_mismatch`, `$validate` reports it, D14),
    not a 422. Everything else about the frame is checked as usual.
    """
    if isinstance(value, dict):
        columns, rows = value.get("columns"), value.get("data")
        if (
            isinstance(columns, list)
            and isinstance(rows, list)
            and all(isinstance(row, list) for row in rows)
            and any(len(row) != len(columns) for row in rows)
        ):
            header: PandasDataFrame = handler({**value, "data": []})
            return PandasDataFrame.model_construct(columns=header.columns, data=_ROWS.validate_python(rows))
    return handler(value)


def is_rectangular(frame: PandasDataFrame) -> bool:
    """Whether every row of the frame has one value per column."""
    return frame.is_rectangular()


class RunInfo(BaseModel):
    """Per-request context chap-core attaches to train and predict requests (the newer contract, D24)."""

    # Strict: `true` or `"3"` is not a horizon (the schema says integer, so a lax read would accept what it forbids).
    model_config = ConfigDict(populate_by_name=True, extra="ignore", strict=True)

    prediction_periods: int | None = Field(
        default=None,
        validation_alias=AliasChoices("prediction_periods", "prediction_length"),
        serialization_alias="prediction_periods",
        description="Forecast horizon of this request (chap-core may spell it `prediction_length`)",
    )
    additional_continuous_covariates: list[str] = Field(
        default_factory=list, description="Covariate columns chap-core added to this request beyond the required ones"
    )
    future_covariate_origin: str | None = Field(
        default=None, description="Where chap-core took the future covariate values from, when it says"
    )


class TrainRequest(BaseModel):
    """Request schema for training a model."""

    config_id: ULIDValue = Field(description="ID of the config to use for training")
    data: PandasDataFrame = Field(description="Training data as pandas DataFrame")
    geo: GeoFeatureCollection | None = Field(default=None, description="Optional geospatial data")
    run_info: RunInfo | None = Field(default=None, description="Optional per-request context (the newer contract)")

    _strict_geo = field_validator("geo", mode="before")(refuse_booleans_in_coordinates)
    _ragged_rows = field_validator("data", mode="wrap")(keep_ragged_rows)


def _fill_both_spellings(value: Any, name: str) -> Any:
    """Give a response its id under both generations' names: `artifact_id` and `name` (D24)."""
    if isinstance(value, dict):
        given = value.get("artifact_id", value.get(name))
        if given is not None:
            return {**value, "artifact_id": given, name: given}
    return value


class TrainResponse(BaseModel):
    """Response schema for train operation submission (both generations' names for the artifact id, D24)."""

    model_config = ConfigDict(protected_namespaces=())

    job_id: ULIDText = Field(description="ID of the training job in the scheduler")
    artifact_id: ULIDText = Field(description="ID that will contain the trained model artifact (newer contract)")
    model_artifact_id: ULIDText = Field(description="The same ID, under the reference's name")
    message: str = Field(description="Human-readable message")

    @model_validator(mode="before")
    @classmethod
    def _both_names(cls, value: Any) -> Any:
        return _fill_both_spellings(value, "model_artifact_id")


_MODEL_ID_NAMES = ("artifact_id", "model_artifact_id")


def _exactly_one_model_id(schema: dict[str, Any]) -> None:
    """Document that a predict request names its model by exactly one of the two spellings."""
    properties = schema.get("properties", {})
    if "model_artifact_id" in properties and "artifact_id" in properties:
        description = properties["artifact_id"].get("description")
        properties["artifact_id"] = {**properties["model_artifact_id"], "description": description}
    schema["required"] = [name for name in schema.get("required", []) if name not in _MODEL_ID_NAMES]
    schema["oneOf"] = [{"required": [name]} for name in _MODEL_ID_NAMES]


class PredictRequest(BaseModel):
    """Request schema for making predictions.

    The trained model is named by `model_artifact_id` (the reference's name) or `artifact_id` (the newer
    contract's), exactly one of them; either way `model_artifact_id` holds it after validation. A request
    naming `artifact_id` or carrying `run_info` is of the newer generation (`generation`), and its
    prediction is stored in that generation's shape (D24).
    """

    model_config = ConfigDict(protected_namespaces=(), json_schema_extra=_exactly_one_model_id)

    model_artifact_id: ULIDValue = Field(description="ID of the artifact containing the trained model")
    artifact_id: ULIDValue | None = Field(
        default=None, description="The trained model's artifact ID under the newer contract's name"
    )
    historic: PandasDataFrame = Field(description="Historic data as pandas DataFrame")
    future: PandasDataFrame = Field(description="Future/prediction data as pandas DataFrame")
    geo: GeoFeatureCollection | None = Field(default=None, description="Optional geospatial data")
    run_info: RunInfo | None = Field(default=None, description="Optional per-request context (the newer contract)")

    _strict_geo = field_validator("geo", mode="before")(refuse_booleans_in_coordinates)
    _ragged_rows = field_validator("historic", "future", mode="wrap")(keep_ragged_rows)

    @model_validator(mode="before")
    @classmethod
    def _one_model_id(cls, value: Any) -> Any:
        if not isinstance(value, dict) or "artifact_id" not in value:
            return value
        if "model_artifact_id" in value:
            raise ValueError("name the trained model by `artifact_id` or by `model_artifact_id`, not both")
        if value["artifact_id"] is None:
            raise ValueError("`artifact_id` must name the trained model's artifact")
        return {**value, "model_artifact_id": value["artifact_id"]}

    @model_serializer(mode="wrap")
    def _one_model_id_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Dumped (to queue a job) and read back, the request names its model the way it was named.
        dumped: dict[str, Any] = handler(self)
        dumped.pop("model_artifact_id" if self.artifact_id is not None else "artifact_id", None)
        return dumped

    @property
    def generation(self) -> ContractGeneration:
        """The generation of the contract this request was made in (D24)."""
        if self.artifact_id is not None or self.run_info is not None:
            return ContractGeneration.chap
        return ContractGeneration.reference


class PredictResponse(BaseModel):
    """Response schema for predict operation submission (both generations' names for the artifact id, D24)."""

    job_id: ULIDText = Field(description="ID of the prediction job in the scheduler")
    artifact_id: ULIDText = Field(description="ID that will contain the prediction artifact (newer contract)")
    prediction_artifact_id: ULIDText = Field(description="The same ID, under the reference's name")
    message: str = Field(description="Human-readable message")

    @model_validator(mode="before")
    @classmethod
    def _both_names(cls, value: Any) -> Any:
        return _fill_both_spellings(value, "prediction_artifact_id")


class TrainedModelArtifactData(BaseModel):
    """Schema for trained model artifact data stored in the artifact system."""

    # `model_*` field names are the reference's; pydantic < 2.10 would warn about them without this.
    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    ml_type: Literal["trained_model"] = Field(description="Artifact type identifier")
    config_id: str = Field(description="ID of the config used for training")
    started_at: str = Field(description="ISO format timestamp when operation started")
    completed_at: str = Field(description="ISO format timestamp when operation completed")
    duration_seconds: float = Field(description="Operation duration in seconds (rounded to 2 decimals)")
    model: Any = Field(description="The trained model object (must be pickleable)")
    model_type: str | None = Field(default=None, description="Fully qualified class name of the model")
    model_size_bytes: int | None = Field(default=None, description="Serialized pickle size of the model in bytes")
    metrics: dict[str, float] | None = Field(
        default=None,
        description="Metrics the training reported (`TrainResult`, or a shell model's `metrics.json`); "
        "`None` when it reported none",
    )


class PredictionArtifactData(BaseModel):
    """Schema for prediction artifact data stored in the artifact system."""

    model_config = ConfigDict(protected_namespaces=())

    ml_type: Literal["prediction"] = Field(description="Artifact type identifier")
    config_id: str = Field(description="ID of the config used for prediction")
    model_artifact_id: ULIDText = Field(description="ID of the trained model artifact used for prediction")
    started_at: str = Field(description="ISO format timestamp when operation started")
    completed_at: str = Field(description="ISO format timestamp when operation completed")
    duration_seconds: float = Field(description="Operation duration in seconds (rounded to 2 decimals)")
    predictions: PandasDataFrame = Field(description="Prediction results as structured DataFrame")
    history: PandasDataFrame | None = Field(
        default=None,
        description="The target's last periods per location from the request's historic frame (`location`, "
        "`time_period` and the target column), for plotting; `None` when that frame has no target column",
    )


__all__ = [
    "BaseModelRunner",
    "GeoFeatureCollection",
    "ModelRunnerProtocol",
    "PredictRequest",
    "PredictResponse",
    "PredictionArtifactData",
    "RunInfo",
    "TrainRequest",
    "TrainResponse",
    "TrainedModelArtifactData",
]
