"""`MLManager`: train and predict as background jobs that store models and predictions as artifacts.

Submission (`execute_train`, `execute_predict`) checks what can be checked at once, in a read unit of
work: the config or the model artifact exists (404 problem otherwise), the config fits the service's
schema, the artifact is a trained model, and the data keeps the service's `ModelRequirements` (422
problem naming the field). Only then is the job scheduled; the id of the artifact it will store is
made up front and returned with the job id, as the reference does.

Each job opens its own units of work from the factory it was given (the container's, D21): a read unit
for the config or the model, then, after the runner has finished (`on_init`/`on_cleanup` around it), one
write unit that stores the result and commits once. A trained model is a root artifact linked to its
config in that same commit; a prediction is a child of its model artifact. A job that fails stores
nothing, and what was stored before is left as it was. The checks run again inside the job, since a
config or model may be deleted between submission and run.
"""

from __future__ import annotations

import datetime
import pickle
from collections.abc import Callable
from typing import Any

import pandas as pd
from pydantic import ValidationError as PydanticValidationError
from ulid import ULID

from chapkit.application.ml_runners import model_runner_hooks
from chapkit.domain.artifact import Artifact, PandasDataFrame
from chapkit.domain.artifact_tree import level_under
from chapkit.domain.config import BaseConfig
from chapkit.domain.errors import ConflictError, NotFoundError
from chapkit.domain.ml import (
    ModelRunnerProtocol,
    PredictionArtifactData,
    PredictRequest,
    PredictResponse,
    TrainedModelArtifactData,
    TrainRequest,
    TrainResponse,
    model_type_of,
)
from chapkit.domain.ml_checks import (
    MLRequestError,
    ModelRequirements,
    PredictValidation,
    TrainValidation,
    ValidationDiagnostic,
    ValidationResponse,
    diagnose_predict,
    diagnose_train,
    error,
    has_errors,
)
from chapkit.domain.ports import Datastore, JobScheduler, UnitOfWork

UnitOfWorkFactory = Callable[..., UnitOfWork]
"""Opens a unit of work: called as `factory(write=True)` or `factory(write=False)`."""

TRAINED_MODEL = "trained_model"
PREDICTION = "prediction"


class ModelOutputError(ValueError):
    """A runner returned what cannot be stored: no model, an unpicklable model, predictions that are no DataFrame."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def is_trained_model(data: Any) -> bool:
    """Whether artifact data is a trained model stored by `MLManager`."""
    return isinstance(data, dict) and data.get("ml_type") == TRAINED_MODEL


def pickled_size(model: Any) -> int:
    """Size of the pickled model; `ModelOutputError` naming the cause when it cannot be pickled."""
    try:
        return len(pickle.dumps(model))
    except Exception as exc:
        raise ModelOutputError(
            f"the trained model ({type(model).__module__}.{type(model).__qualname__}) cannot be pickled, "
            f"so it cannot be stored: {exc}"
        ) from exc


class MLManager:
    """Manager for ML train/predict operations with job scheduling and artifact storage."""

    def __init__(
        self,
        runner: ModelRunnerProtocol,
        scheduler: JobScheduler,
        database: Datastore,
        config_schema: type[BaseConfig],
        *,
        unit_of_work: UnitOfWorkFactory | None = None,
        requirements: ModelRequirements | None = None,
    ) -> None:
        """Initialize ML manager with runner, scheduler, database, and config schema.

        `unit_of_work` opens the units the checks and jobs use (the container passes its own factory);
        without it they come from `database.unit_of_work`. `requirements` are what the service
        declares of its input (none by default).
        """
        self.runner = runner
        self.scheduler = scheduler
        self.database = database
        self.config_schema = config_schema
        self.requirements = requirements or ModelRequirements()
        self._unit_of_work: UnitOfWorkFactory = unit_of_work or database.unit_of_work

    # ---------------------------------------------------------------- submission

    async def execute_train(self, request: TrainRequest) -> TrainResponse:
        """Submit a training job to the scheduler and return job/artifact IDs."""
        diagnostics = await self._train_diagnostics(request, missing_is_404=True)
        if has_errors(diagnostics):
            raise MLRequestError(diagnostics)
        model_artifact_id = ULID()
        job_id = await self.scheduler.add_job(self._train_task, request, model_artifact_id)
        return TrainResponse(
            job_id=str(job_id),
            model_artifact_id=str(model_artifact_id),
            message=f"Training job submitted. Job ID: {job_id}",
        )

    async def execute_predict(self, request: PredictRequest) -> PredictResponse:
        """Submit a prediction job to the scheduler and return job/artifact IDs."""
        diagnostics = await self._predict_diagnostics(request, missing_is_404=True)
        if has_errors(diagnostics):
            raise MLRequestError(diagnostics)
        prediction_artifact_id = ULID()
        job_id = await self.scheduler.add_job(self._predict_task, request, prediction_artifact_id)
        return PredictResponse(
            job_id=str(job_id),
            prediction_artifact_id=str(prediction_artifact_id),
            message=f"Prediction job submitted. Job ID: {job_id}",
        )

    async def validate(self, request: TrainValidation | PredictValidation) -> ValidationResponse:
        """Check a train or predict request without running it; every finding, errors and warnings."""
        if isinstance(request, TrainValidation):
            return ValidationResponse.of(await self._train_diagnostics(request, missing_is_404=False))
        return ValidationResponse.of(await self._predict_diagnostics(request, missing_is_404=False))

    async def _train_diagnostics(self, request: TrainRequest, *, missing_is_404: bool) -> list[ValidationDiagnostic]:
        async with self._unit_of_work(write=False) as uow:
            found = await self._config_diagnostics(uow, request.config_id, missing_is_404=missing_is_404)
        return found + diagnose_train(request, self.requirements)

    async def _predict_diagnostics(
        self, request: PredictRequest, *, missing_is_404: bool
    ) -> list[ValidationDiagnostic]:
        async with self._unit_of_work(write=False) as uow:
            artifact = await uow.artifacts.find_by_id(request.model_artifact_id)
        found: list[ValidationDiagnostic] = []
        if artifact is None:
            message = f"Model artifact {request.model_artifact_id} not found"
            if missing_is_404:
                raise NotFoundError(message)
            found.append(error("model-not-found", message, "model_artifact_id"))
        elif not is_trained_model(artifact.data):
            kind = artifact.data.get("ml_type") if isinstance(artifact.data, dict) else None
            what = f"a {kind} artifact" if isinstance(kind, str) else "not a trained model"
            message = (
                f"Artifact {request.model_artifact_id} is {what}: `model_artifact_id` must name the artifact "
                "of a trained model (the `model_artifact_id` that `$train` returned)"
            )
            found.append(error("not-a-model", message, "model_artifact_id"))
        return found + diagnose_predict(request, self.requirements)

    async def _config_diagnostics(
        self, uow: UnitOfWork, config_id: ULID, *, missing_is_404: bool
    ) -> list[ValidationDiagnostic]:
        config = await uow.configs.find_by_id(config_id)
        if config is None:
            message = f"Config {config_id} not found"
            if missing_is_404:
                raise NotFoundError(message)
            return [error("config-not-found", message, "config_id")]
        try:
            self.config_schema.model_validate(config.data)
        except PydanticValidationError as exc:
            message = (
                f"Config {config_id} does not fit this service's schema {self.config_schema.__name__} "
                f"(a config of another service?): {_first_problem(exc)}"
            )
            return [error("config-mismatch", message, "config_id")]
        return []

    # ---------------------------------------------------------------- jobs

    async def _load_config(self, uow: UnitOfWork, config_id: ULID) -> BaseConfig:
        config = await uow.configs.find_by_id(config_id)
        if config is None:
            raise NotFoundError(f"Config {config_id} not found (deleted after the job was submitted?)")
        return self.config_schema.model_validate(config.data)

    async def _train_task(self, request: TrainRequest, model_artifact_id: ULID) -> ULID:
        """Execute training task and store trained model in artifact."""
        async with self._unit_of_work(write=False) as uow:
            config = await self._load_config(uow, request.config_id)
        data = request.data.to_dataframe()

        started_at = _now()
        async with model_runner_hooks(self.runner):
            model = await self.runner.on_train(config=config, data=data, geo=request.geo)
        completed_at = _now()
        if model is None:
            raise ModelOutputError("the train function returned None; it must return the trained model")
        size = pickled_size(model)

        record = TrainedModelArtifactData(
            ml_type=TRAINED_MODEL,
            config_id=str(request.config_id),
            started_at=started_at.isoformat(),
            completed_at=completed_at.isoformat(),
            duration_seconds=round((completed_at - started_at).total_seconds(), 2),
            model=None,
            model_type=model_type_of(model),
            model_size_bytes=size,
        )
        # The model object itself, not a dump of it: a pydantic model or dataclass stays what it was.
        stored = {**record.model_dump(exclude={"model"}), "model": model}
        async with self._unit_of_work(write=True) as uow:
            if await uow.configs.find_by_id(request.config_id) is None:
                raise NotFoundError(f"Config {request.config_id} was deleted while the model trained; nothing stored")
            await uow.artifacts.save(Artifact(id=model_artifact_id, data=stored, parent_id=None, level=0))
            await uow.configs.link_artifact(request.config_id, model_artifact_id)
            await uow.commit()
        return model_artifact_id

    async def _predict_task(self, request: PredictRequest, prediction_artifact_id: ULID) -> ULID:
        """Execute prediction task and store predictions in artifact."""
        async with self._unit_of_work(write=False) as uow:
            model_artifact = await uow.artifacts.find_by_id(request.model_artifact_id)
            if model_artifact is None:
                raise NotFoundError(
                    f"Model artifact {request.model_artifact_id} not found (deleted after the job was submitted?)"
                )
            if not is_trained_model(model_artifact.data):
                raise ModelOutputError(f"Artifact {request.model_artifact_id} is not a trained model")
            config_id = ULID.from_str(model_artifact.data["config_id"])
            config = await self._load_config(uow, config_id)
        trained_model = model_artifact.data["model"]
        historic = request.historic.to_dataframe()
        future = request.future.to_dataframe()

        started_at = _now()
        async with model_runner_hooks(self.runner):
            predictions = await self.runner.on_predict(
                config=config, model=trained_model, historic=historic, future=future, geo=request.geo
            )
        completed_at = _now()
        if not isinstance(predictions, pd.DataFrame):
            raise ModelOutputError(
                f"the predict function returned {type(predictions).__qualname__}; it must return a pandas DataFrame"
            )

        record = PredictionArtifactData(
            ml_type=PREDICTION,
            config_id=str(config_id),
            model_artifact_id=str(request.model_artifact_id),
            started_at=started_at.isoformat(),
            completed_at=completed_at.isoformat(),
            duration_seconds=round((completed_at - started_at).total_seconds(), 2),
            predictions=PandasDataFrame.from_dataframe(predictions),
        )
        async with self._unit_of_work(write=True) as uow:
            try:
                await uow.artifacts.save(
                    Artifact(
                        id=prediction_artifact_id,
                        data=record.model_dump(),
                        parent_id=request.model_artifact_id,
                        level=level_under(model_artifact.level),
                    )
                )
                await uow.commit()
            except ConflictError as exc:
                raise NotFoundError(
                    f"Model artifact {request.model_artifact_id} was deleted while predicting; nothing stored"
                ) from exc
        return prediction_artifact_id


def _first_problem(exc: PydanticValidationError) -> str:
    item = exc.errors()[0]
    where = ".".join(str(part) for part in item["loc"]) or "data"
    return f"{where}: {item['msg']}"


__all__ = ["MLManager", "ModelOutputError", "UnitOfWorkFactory", "is_trained_model", "pickled_size"]
