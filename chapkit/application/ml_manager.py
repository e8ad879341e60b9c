"""`MLManager`: train and predict as background jobs that store models and predictions as artifacts.

Submission (`execute_train`, `execute_predict`) only schedules the job: a well-formed request is
accepted (202) with the job id and the id of the artifact the job will store, made up front, as both
generations of the contract do (D14, D24). Everything about the request's data is checked inside the
job, which fails with the reason (`chapkit.application.ml_inputs` reads and checks the request: an
unknown config or model, a config that does not fit the schema, data that breaks the service's
requirements, a horizon outside its bounds). `validate` reports the same findings up front, without
running anything.

Each job opens two units of work from the factory it was given (the container's, D21): a read unit
that reads the config (and, to predict, the model) once (`MLInputs`), then, after the runner has
finished (`on_init`/`on_cleanup` around it), one write unit that stores the result and commits once.
The config the model runs with is the one the checks read, validated once. A trained
model is pickled once (`PickledModel`, its size is `model_size_bytes`) and stored, with the metrics its
training reported (`TrainResult`) as JSON (`metrics`), as a root artifact linked to its config in the
write unit's one commit, which does not read the config again: a config deleted meanwhile fails the
link, and the job, and nothing is stored. A prediction is a child of its model artifact, stored in the
shape of the generation of the `$predict` that asked for it (`chapkit.domain.ml_artifacts`), with the
last periods of the target per location from the request's `historic` frame (`forecast_history`) for
plotting. A model script that fails (`ModelRunFailedError`) leaves its diagnostic workspace at the
promised artifact id and fails the job with the command, its exit code and the end of its stderr.
Any other failure stores nothing.
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ulid import ULID

from chapkit.application.ml_inputs import MLInputs, UnitOfWorkFactory
from chapkit.application.ml_runners import as_model_runner, model_runner_hooks
from chapkit.domain.artifact import Artifact
from chapkit.domain.artifact_tree import level_under
from chapkit.domain.config import BaseConfig
from chapkit.domain.dataframes import PandasDataFrame, is_dataframe
from chapkit.domain.errors import ConflictError, NotFoundError
from chapkit.domain.forecasts import as_chap_forecast, forecast_content, forecast_history
from chapkit.domain.jobs import JobOutcome, job_name
from chapkit.domain.ml import (
    ModelRunnerProtocol,
    PredictionArtifactData,
    PredictRequest,
    PredictResponse,
    TrainedModelArtifactData,
    TrainRequest,
    TrainResponse,
)
from chapkit.domain.ml_artifacts import (
    ML_PREDICTION_WORKSPACE,
    ML_TRAINING_WORKSPACE,
    PREDICTION,
    TRAINED_MODEL,
    ContractGeneration,
    MLMetadata,
    ModelRunFailedError,
    chap_prediction_data,
    failed_workspace_data,
    is_trained_model,
)
from chapkit.domain.ml_checks import (
    MLRequestError,
    ModelRequirements,
    PredictValidation,
    TrainValidation,
    ValidationResponse,
    has_errors,
)
from chapkit.domain.ports import Datastore, JobScheduler
from chapkit.domain.trained_models import PickledModel, TrainResult, model_type_of

if TYPE_CHECKING:
    import pandas as pd


class ModelOutputError(ValueError):
    """A runner returned what cannot be stored: no model, an unpicklable model, predictions that are no DataFrame."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def pickled_model(model: Any) -> PickledModel:
    """The model pickled, as its artifact stores it; `ModelOutputError` naming the cause when it cannot be pickled."""
    try:
        return PickledModel.of(model)
    except Exception as exc:
        raise ModelOutputError(
            f"the trained model ({type(model).__module__}.{type(model).__qualname__}) cannot be pickled, "
            f"so it cannot be stored: {exc}"
        ) from exc


@dataclass(frozen=True, slots=True)
class _Run:
    """When a model ran: the times every ML artifact records."""

    config_id: str
    started_at: datetime.datetime
    completed_at: datetime.datetime

    def metadata(self) -> MLMetadata:
        return MLMetadata(
            status="success",
            config_id=self.config_id,
            started_at=self.started_at.isoformat(),
            completed_at=self.completed_at.isoformat(),
            duration_seconds=round((self.completed_at - self.started_at).total_seconds(), 2),
        )


def _failure_message(operation: str, failure: ModelRunFailedError, artifact_id: ULID) -> str:
    """How a failed model script fails its job (chapkit 2.4.1's wording, plus the command), on one line."""
    command = " ".join(failure.command.split())
    code = failure.exit_code if failure.exit_code is not None else "none (killed)"
    return (
        f"{operation} script failed with exit code {code} (command: {command}); diagnostic artifact {artifact_id} "
        f"holds the workspace, stdout and stderr; stderr tail: {failure.stderr_tail() or '(empty)'}"
    )


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

    @property
    def _inputs(self) -> MLInputs:
        """The reader and checks of requests, on the manager's schema and requirements as they are now."""
        return MLInputs(self.config_schema, self.requirements, self._unit_of_work)

    # ---------------------------------------------------------------- submission

    async def execute_train(self, request: TrainRequest) -> TrainResponse:
        """Submit a training job to the scheduler and return job/artifact IDs."""
        model_artifact_id = ULID()
        job_id = await self.scheduler.add_job(self._train_task, request, model_artifact_id)
        return TrainResponse(
            job_id=str(job_id),
            artifact_id=str(model_artifact_id),
            model_artifact_id=str(model_artifact_id),
            message=f"Training job submitted. Job ID: {job_id}",
        )

    async def execute_predict(self, request: PredictRequest) -> PredictResponse:
        """Submit a prediction job to the scheduler and return job/artifact IDs."""
        prediction_artifact_id = ULID()
        job_id = await self.scheduler.add_job(self._predict_task, request, prediction_artifact_id)
        return PredictResponse(
            job_id=str(job_id),
            artifact_id=str(prediction_artifact_id),
            prediction_artifact_id=str(prediction_artifact_id),
            message=f"Prediction job submitted. Job ID: {job_id}",
        )

    async def validate(self, request: TrainValidation | PredictValidation) -> ValidationResponse:
        """Check a train or predict request without running it; every finding, errors and warnings."""
        if isinstance(request, TrainValidation):
            return ValidationResponse.of((await self._inputs.for_training(request))[1])
        return ValidationResponse.of((await self._inputs.for_prediction(request))[1])

    async def config_data(self, config_id: ULID) -> dict[str, Any] | None:
        """A stored config's data (its JSON object); `None` for an unknown config."""
        async with self._unit_of_work(write=False) as uow:
            stored = await uow.configs.find_by_id(config_id)
        return None if stored is None else stored.data

    # ---------------------------------------------------------------- jobs

    @job_name("chapkit.ml.train")
    async def _train_task(self, request: TrainRequest, model_artifact_id: ULID) -> JobOutcome:
        """Execute training task and store trained model in artifact."""
        configured, found = await self._inputs.for_training(request)
        if configured is None or has_errors(found):
            raise MLRequestError(found)
        run_config = configured.for_the_model()
        data = request.data.to_dataframe()

        runner = as_model_runner(self.runner)
        started_at = _now()
        try:
            async with model_runner_hooks(runner):
                trained = await runner.on_train(config=run_config, data=data, geo=request.geo)
        except ModelRunFailedError as failure:
            run = _Run(str(request.config_id), started_at, _now())
            await self._store_training_failure(request.config_id, model_artifact_id, failure, run)
            raise RuntimeError(_failure_message("train", failure, model_artifact_id)) from failure
        completed_at = _now()
        # A `TrainResult` carries the model and its metrics (checked when it was made); a bare model, none.
        model, metrics = (trained.model, dict(trained.metrics)) if isinstance(trained, TrainResult) else (trained, {})
        if model is None:
            raise ModelOutputError("the train function returned None; it must return the trained model")
        pickled = pickled_model(model)

        record = TrainedModelArtifactData(
            ml_type=TRAINED_MODEL,
            config_id=str(request.config_id),
            started_at=started_at.isoformat(),
            completed_at=completed_at.isoformat(),
            duration_seconds=round((completed_at - started_at).total_seconds(), 2),
            model=None,
            model_type=model_type_of(model),
            model_size_bytes=pickled.size,
            metrics=metrics or None,
        )
        # The model as pickled once, which reads back as the model object itself, not as a dump of it:
        # a pydantic model or dataclass stays what it was.
        stored = {**record.model_dump(exclude={"model"}), "model": pickled}
        async with self._unit_of_work(write=True) as uow:
            await uow.artifacts.save(Artifact(id=model_artifact_id, data=stored, parent_id=None, level=0))
            try:
                await uow.configs.link_artifact(request.config_id, model_artifact_id)
            except NotFoundError as exc:
                message = f"Config {request.config_id} not found: it was deleted while the model trained"
                raise ValueError(message) from exc
            await uow.commit()
        return JobOutcome(artifact_id=model_artifact_id)

    @job_name("chapkit.ml.predict")
    async def _predict_task(self, request: PredictRequest, prediction_artifact_id: ULID) -> JobOutcome:
        """Execute prediction task and store predictions in artifact."""
        inputs, found = await self._inputs.for_prediction(request)
        if inputs is None or has_errors(found):
            raise MLRequestError(found)
        model_artifact = inputs.model_artifact
        run_config = inputs.configured.for_the_model()
        historic = request.historic.to_dataframe()
        future = request.future.to_dataframe()
        # Taken before the model runs: a predict function may change the frame it is given.
        history = forecast_history(historic, self.requirements.target)

        runner = as_model_runner(self.runner)
        started_at = _now()
        try:
            async with model_runner_hooks(runner):
                predictions = await runner.on_predict(
                    config=run_config,
                    model=model_artifact.data["model"],
                    historic=historic,
                    future=future,
                    geo=request.geo,
                )
        except ModelRunFailedError as failure:
            run = _Run(str(inputs.config_id), started_at, _now())
            await self._store_prediction_failure(model_artifact, prediction_artifact_id, failure, run)
            raise RuntimeError(_failure_message("predict", failure, prediction_artifact_id)) from failure
        run = _Run(str(inputs.config_id), started_at, _now())
        if not is_dataframe(predictions):
            raise ModelOutputError(
                f"the predict function returned {type(predictions).__qualname__}; it must return a pandas DataFrame"
            )
        data = self._prediction_data(request, predictions, run, history)
        async with self._unit_of_work(write=True) as uow:
            try:
                await uow.artifacts.save(
                    Artifact(
                        id=prediction_artifact_id,
                        data=data,
                        parent_id=model_artifact.id,
                        level=level_under(model_artifact.level),
                    )
                )
                await uow.commit()
            except ConflictError as exc:
                raise ValueError(
                    f"Training artifact {model_artifact.id} not found: it was deleted while predicting"
                ) from exc
        return JobOutcome(artifact_id=prediction_artifact_id)

    def _prediction_data(
        self, request: PredictRequest, predictions: pd.DataFrame, run: _Run, history: PandasDataFrame | None
    ) -> dict[str, Any]:
        """The prediction's artifact data, in the shape of the request's generation (D24), with its history."""
        stored_history = history.model_dump() if history is not None else None
        if request.generation == ContractGeneration.chap:
            forecast = as_chap_forecast(predictions, self.requirements.target)
            return chap_prediction_data(forecast_content(forecast), run.metadata(), stored_history)
        metadata = run.metadata()
        frame = PandasDataFrame.from_dataframe(predictions)
        record = PredictionArtifactData(
            ml_type=PREDICTION,
            config_id=run.config_id,
            model_artifact_id=str(request.model_artifact_id),
            started_at=metadata.started_at,
            completed_at=metadata.completed_at,
            duration_seconds=metadata.duration_seconds,
            predictions=frame,
            history=history,
        )
        # `model_dump` would copy every row of the predictions (a list per row): the rows just built
        # are stored as they are, in the dump's place and shape (`forecast_content` does the same).
        stored = record.model_dump(exclude={"predictions", "history"})
        return {**stored, "predictions": {"columns": frame.columns, "data": frame.data}, "history": stored_history}

    async def _store_training_failure(
        self, config_id: ULID, artifact_id: ULID, failure: ModelRunFailedError, run: _Run
    ) -> None:
        """Keep a failed training's workspace at the promised id, linked to its config when it still exists."""
        data = failed_workspace_data(ML_TRAINING_WORKSPACE, failure, run.metadata())
        async with self._unit_of_work(write=True) as uow:
            await uow.artifacts.save(Artifact(id=artifact_id, data=data, parent_id=None, level=0))
            with contextlib.suppress(NotFoundError):  # the config was deleted meanwhile: the workspace stays unlinked
                await uow.configs.link_artifact(config_id, artifact_id)
            await uow.commit()

    async def _store_prediction_failure(
        self, model_artifact: Artifact, artifact_id: ULID, failure: ModelRunFailedError, run: _Run
    ) -> None:
        """Keep a failed prediction's workspace at the promised id, under its model (unless that was deleted)."""
        data = failed_workspace_data(ML_PREDICTION_WORKSPACE, failure, run.metadata())
        async with self._unit_of_work(write=True) as uow:
            try:
                await uow.artifacts.save(
                    Artifact(
                        id=artifact_id, data=data, parent_id=model_artifact.id, level=level_under(model_artifact.level)
                    )
                )
                await uow.commit()
            except ConflictError:
                return


__all__ = ["MLManager", "ModelOutputError", "UnitOfWorkFactory", "is_trained_model", "pickled_model"]
