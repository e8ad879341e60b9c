"""What train and predict store as artifact data, in both generations of the wire contract (D24).

chapkit speaks the reference's contract and the newer one chap-core uses. Trained models are stored in
the reference's shape in both (chap-core reads a training artifact only for a failed run's output). A
prediction takes the shape of the generation of the `$predict` that created it, because the newer
generation's reader forbids every field the reference's shape has:

- reference: `{"ml_type": "prediction", "config_id", "model_artifact_id", "started_at", "completed_at",
  "duration_seconds", "predictions": {"columns", "data"}, "history"}`;
- newer: `{"type": "ml_prediction", "metadata": {**MLMetadata, "history"}, "content": {"columns", "data",
  "schema"}, "content_type": "application/vnd.chapkit.dataframe+json", "content_size": null}`.

`history` is the recent history of the target the prediction was made from (`forecast_history`: the
last periods per location of the request's `historic` frame, `{"columns", "data"}`), or `None` when
that frame has no target column; the newer shape keeps it inside `metadata`, which chap-core's reader
lets have members it does not know (it forbids them at the top level).

A model script that fails leaves a diagnostic workspace at the artifact id the submission promised, in
the newer generation's shape whatever the request's generation (`ml_training_workspace` or
`ml_prediction_workspace`, `metadata.status == "failed"`, the workspace files as a zip `content`).

Every reader of stored predictions goes through `prediction_frame`, which reads both shapes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from chapkit.domain.dataframes import PandasDataFrame

TRAINED_MODEL = "trained_model"
"""`ml_type` of a trained model (the reference's shape, both generations)."""
PREDICTION = "prediction"
"""`ml_type` of a prediction in the reference's shape."""
ML_PREDICTION = "ml_prediction"
"""`type` of a prediction in the newer generation's shape."""
ML_TRAINING_WORKSPACE = "ml_training_workspace"
"""`type` of the workspace a training run left (a failed model script's files, stdout and stderr)."""
ML_PREDICTION_WORKSPACE = "ml_prediction_workspace"
"""`type` of the workspace a prediction run left."""

DATAFRAME_CONTENT_TYPE = "application/vnd.chapkit.dataframe+json"
"""`content_type` of a prediction's DataFrame content (newer generation)."""
ZIP_CONTENT_TYPE = "application/zip"
"""`content_type` of a workspace's zip content."""

OUTPUT_TAIL_CHARS = 64_000
"""How much of the end of a script's stdout and of its stderr a workspace artifact keeps (chap-core keeps as much)."""


class ContractGeneration(StrEnum):
    """Which generation of the wire contract a request was made in (D24)."""

    reference = "reference"
    """The reference's contract (`model_artifact_id`, no `run_info`)."""
    chap = "chap"
    """The newer contract chap-core speaks (`artifact_id`, `run_info`)."""


class MLMetadata(BaseModel):
    """Metadata of a newer-generation ML artifact (a prediction or a workspace)."""

    status: Literal["success", "failed"] = Field(description="Whether the run succeeded")
    config_id: str = Field(description="ID of the config the run used")
    started_at: str = Field(description="ISO 8601 timestamp when the run started")
    completed_at: str = Field(description="ISO 8601 timestamp when the run ended")
    duration_seconds: float = Field(description="Run duration in seconds")
    exit_code: int | None = Field(default=None, description="The model script's exit code (shell runs)")
    stdout: str | None = Field(default=None, description="End of the model script's standard output (shell runs)")
    stderr: str | None = Field(default=None, description="End of the model script's standard error (shell runs)")


class ModelRunFailedError(RuntimeError):
    """A model script exited with an error: what a diagnostic workspace artifact stores.

    `workspace` is the run's working directory as zip bytes (or `None` when it could not be read);
    `stdout` and `stderr` are the ends of the script's output streams.
    """

    def __init__(
        self,
        message: str,
        *,
        command: str,
        exit_code: int | None,
        stdout: str,
        stderr: str,
        workspace: bytes | None,
    ) -> None:
        super().__init__(message)
        self.command = command
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.workspace = workspace

    def __reduce__(self) -> Any:
        # Job stores may pickle a job's exception; keep every field through the round trip.
        return _rebuild_run_failure, (
            type(self),
            str(self),
            self.command,
            self.exit_code,
            self.stdout,
            self.stderr,
            self.workspace,
        )

    def stderr_tail(self, lines: int = 10) -> str:
        """The last `lines` non-empty lines of stderr joined by ` | ` (how chapkit 2.4.1 words a failure)."""
        kept = [line.rstrip() for line in self.stderr.splitlines() if line.strip()]
        return " | ".join(kept[-lines:])


def _rebuild_run_failure(
    cls: type[ModelRunFailedError],
    message: str,
    command: str,
    exit_code: int | None,
    stdout: str,
    stderr: str,
    workspace: bytes | None,
) -> ModelRunFailedError:
    error = ModelRunFailedError.__new__(cls)
    ModelRunFailedError.__init__(
        error, message, command=command, exit_code=exit_code, stdout=stdout, stderr=stderr, workspace=workspace
    )
    return error


def chap_prediction_data(
    content: dict[str, Any], metadata: MLMetadata, history: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Prediction artifact data in the newer generation's shape (exactly the members chap-core allows).

    `history` (the recent target values, `{"columns", "data"}`, or `None`) goes inside `metadata`, whose
    reader ignores members it does not know; the top level admits none.
    """
    return {
        "type": ML_PREDICTION,
        "metadata": {**metadata.model_dump(), "history": history},
        "content": content,
        "content_type": DATAFRAME_CONTENT_TYPE,
        "content_size": None,
    }


def failed_workspace_data(kind: str, failure: ModelRunFailedError, metadata: MLMetadata) -> dict[str, Any]:
    """The diagnostic workspace a failed model script leaves: `kind` is a workspace type, `content` the zip."""
    recorded = metadata.model_copy(
        update={
            "status": "failed",
            "exit_code": failure.exit_code,
            "stdout": failure.stdout[-OUTPUT_TAIL_CHARS:],
            "stderr": failure.stderr[-OUTPUT_TAIL_CHARS:],
        }
    )
    workspace = failure.workspace
    return {
        "type": kind,
        "metadata": recorded.model_dump(),
        "content": workspace,
        "content_type": ZIP_CONTENT_TYPE if workspace is not None else None,
        "content_size": len(workspace) if workspace is not None else None,
    }


def artifact_kind(data: Any) -> str | None:
    """The ML kind of stored artifact data: its `ml_type` (reference) or `type` (newer), else `None`."""
    if not isinstance(data, dict):
        return None
    kind = data.get("ml_type")
    if isinstance(kind, str):
        return kind
    kind = data.get("type")
    return kind if isinstance(kind, str) else None


def is_trained_model(data: Any) -> bool:
    """Whether artifact data is a trained model (stored by a successful `$train`)."""
    return artifact_kind(data) == TRAINED_MODEL


def is_prediction(data: Any) -> bool:
    """Whether artifact data is a prediction, in either generation's shape."""
    return artifact_kind(data) in (PREDICTION, ML_PREDICTION)


def is_workspace(data: Any) -> bool:
    """Whether artifact data is the workspace of a training or prediction run."""
    return artifact_kind(data) in (ML_TRAINING_WORKSPACE, ML_PREDICTION_WORKSPACE)


def is_failed_run(data: Any) -> bool:
    """Whether artifact data is the diagnostic workspace of a failed run."""
    if not is_workspace(data):
        return False
    metadata = data.get("metadata")
    return isinstance(metadata, dict) and metadata.get("status") == "failed"


def prediction_frame(data: Any) -> PandasDataFrame | None:
    """The predictions stored in prediction artifact data of either shape; `None` for any other data."""
    kind = artifact_kind(data)
    if kind == PREDICTION:
        frame = data.get("predictions")
    elif kind == ML_PREDICTION:
        frame = data.get("content")
    else:
        return None
    if isinstance(frame, PandasDataFrame):
        return frame
    if isinstance(frame, dict) and "columns" in frame and "data" in frame:
        return PandasDataFrame(columns=frame["columns"], data=frame["data"])
    return None


def config_id_of(data: Any) -> str | None:
    """The config id recorded in ML artifact data of either shape."""
    if not isinstance(data, dict):
        return None
    value = data.get("config_id")
    if value is None and isinstance(data.get("metadata"), dict):
        value = data["metadata"].get("config_id")
    return value if isinstance(value, str) else None


__all__ = [
    "DATAFRAME_CONTENT_TYPE",
    "ML_PREDICTION",
    "ML_PREDICTION_WORKSPACE",
    "ML_TRAINING_WORKSPACE",
    "OUTPUT_TAIL_CHARS",
    "PREDICTION",
    "TRAINED_MODEL",
    "ZIP_CONTENT_TYPE",
    "ContractGeneration",
    "MLMetadata",
    "ModelRunFailedError",
    "artifact_kind",
    "chap_prediction_data",
    "failed_workspace_data",
    "config_id_of",
    "is_failed_run",
    "is_prediction",
    "is_trained_model",
    "is_workspace",
    "prediction_frame",
]
