"""What a train or predict job reads and checks before its model runs, and what `$validate` reports.

`MLInputs` reads a request's config (and, to predict, its model artifact) in one read unit of work and
returns what the job runs with together with every finding about the request: an unknown config or
model, a config that does not fit the service's schema, data that breaks the service's requirements,
a horizon outside its bounds. The config is validated into the schema once, with the request's horizon
and covariates (`run_settings`): that one object is what the checks read and what the model runs with.
`MLManager` fails a job on the first error among the findings and `validate` returns all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from ulid import ULID

from chapkit.domain.artifact import Artifact
from chapkit.domain.config import BaseConfig, Config
from chapkit.domain.ml import PredictRequest, TrainRequest
from chapkit.domain.ml_artifacts import artifact_kind, config_id_of, is_failed_run, is_trained_model
from chapkit.domain.ml_checks import ModelRequirements, ValidationDiagnostic, diagnose_predict, diagnose_train, error
from chapkit.domain.ml_horizon import horizon_findings, run_settings
from chapkit.domain.ports import UnitOfWork

UnitOfWorkFactory = Callable[..., UnitOfWork]
"""Opens a unit of work: called as `factory(write=True)` or `factory(write=False)`."""


@dataclass(frozen=True, slots=True)
class RunConfig:
    """A stored config validated into the schema once, with the request's settings (`run_settings`)."""

    config: BaseConfig
    """What the request's checks read and, unless `refused`, what the model runs with."""
    refused: PydanticValidationError | None = None
    """The schema's refusal of the request's own settings (`config` is then the stored config alone)."""

    def for_the_model(self) -> BaseConfig:
        """The config the model runs with; the schema's error when it refused the request's settings."""
        if self.refused is not None:
            raise self.refused
        return self.config


@dataclass(frozen=True, slots=True)
class PredictInputs:
    """What a predict job reads before it runs: the model artifact and its config."""

    model_artifact: Artifact
    config_id: ULID
    configured: RunConfig


@dataclass(frozen=True, slots=True)
class MLInputs:
    """Reads and checks a train or predict request against a service's config schema and requirements."""

    config_schema: type[BaseConfig]
    requirements: ModelRequirements
    unit_of_work: UnitOfWorkFactory

    async def for_training(self, request: TrainRequest) -> tuple[RunConfig | None, list[ValidationDiagnostic]]:
        """The config a training runs with (`None` when there is none to run with) and every finding."""
        async with self.unit_of_work(write=False) as uow:
            stored = await uow.configs.find_by_id(request.config_id)
        if stored is None:
            found = [error("config_not_found", f"Config {request.config_id} not found", "config_id")]
            return None, found + diagnose_train(request, self.requirements)
        configured, found = self._run_config(stored, run_settings(self.config_schema, request.run_info, None))
        found += diagnose_train(request, self.requirements)
        if configured is not None:
            found += horizon_findings(configured.config, request.run_info, None, self.requirements)
        return configured, found

    async def for_prediction(self, request: PredictRequest) -> tuple[PredictInputs | None, list[ValidationDiagnostic]]:
        """The model and config a prediction runs with (`None` when they cannot be used) and every finding."""
        model_id = request.model_artifact_id
        field = "artifact_id" if request.artifact_id is not None else "model_artifact_id"
        inputs: PredictInputs | None = None
        found: list[ValidationDiagnostic] = []
        async with self.unit_of_work(write=False) as uow:
            artifact = await uow.artifacts.find_by_id(model_id)
            stored_config: Config | None = None
            config_id = config_id_of(artifact.data) if artifact is not None else None
            if artifact is not None and is_trained_model(artifact.data) and config_id is not None:
                stored_config = await uow.configs.find_by_id(ULID.from_str(config_id))
        if artifact is None:
            found.append(error("training_artifact_not_found", f"Training artifact {model_id} not found", field))
        elif is_failed_run(artifact.data):
            exit_code = artifact.data["metadata"].get("exit_code")
            message = (
                f"Cannot predict using failed training artifact {model_id}: "
                f"its training script exited with code {exit_code}"
            )
            found.append(error("training_artifact_failed", message, field))
        elif not is_trained_model(artifact.data) or config_id is None:
            kind = artifact_kind(artifact.data)
            what = f"a {kind} artifact" if kind is not None else "not a trained model"
            message = (
                f"Artifact {model_id} is {what}, not a training artifact: name the artifact id that `$train` returned"
            )
            found.append(error("invalid_training_artifact", message, field))
        elif stored_config is None:
            message = f"Config {config_id} not found (the config the model {model_id} was trained with)"
            found.append(error("config_not_found", message, field))
        else:
            settings = run_settings(self.config_schema, request.run_info, request.future)
            configured, found = self._run_config(stored_config, settings)
            if configured is not None:
                inputs = PredictInputs(
                    model_artifact=artifact, config_id=ULID.from_str(config_id), configured=configured
                )
                found += horizon_findings(configured.config, request.run_info, request.future, self.requirements)
        return inputs, found + diagnose_predict(request, self.requirements)

    def _run_config(
        self, stored: Config, settings: dict[str, Any]
    ) -> tuple[RunConfig | None, list[ValidationDiagnostic]]:
        """Validate the stored config with the request's settings into the schema, once.

        Only when that fails and the request set something is the stored config validated alone: if it
        fits, the checks read it and the job fails with the schema's refusal of the request's settings
        (a config class with rules of its own for `prediction_periods`); if not, it is `config_invalid`.
        """
        try:
            return RunConfig(self.config_schema.model_validate(_with_settings(stored.data, settings))), []
        except PydanticValidationError as exc:
            refusal = exc
        if settings:
            try:
                return RunConfig(self.config_schema.model_validate(stored.data), refused=refusal), []
            except PydanticValidationError as exc:
                refusal = exc
        message = (
            f"Config {stored.id} does not fit this service's schema {self.config_schema.__name__} "
            f"(a config of another service?): {_first_problem(refusal)}"
        )
        return None, [error("config_invalid", message, "config_id")]


def _with_settings(data: Any, settings: dict[str, Any]) -> Any:
    """The stored config's data with the request's settings over it (data that is no object as it is)."""
    return {**data, **settings} if settings and isinstance(data, dict) else data


def _first_problem(exc: PydanticValidationError) -> str:
    item = exc.errors()[0]
    where = ".".join(str(part) for part in item["loc"]) or "data"
    return f"{where}: {item['msg']}"


__all__ = ["MLInputs", "PredictInputs", "RunConfig", "UnitOfWorkFactory"]
