"""`MLRouter`: `$train` and `$predict` submit jobs (202), `$validate` checks a request without running it."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from fastapi import Depends, Request, status

from chapkit.adapters.http.crud import ManagerFactory
from chapkit.adapters.http.monitoring import get_service_metrics
from chapkit.adapters.http.problems import PROBLEM_MEDIA_TYPE, problem_responses
from chapkit.adapters.http.router import Router
from chapkit.adapters.observability.metrics import ML_PREDICT_JOBS_TOTAL, ML_TRAIN_JOBS_TOTAL
from chapkit.application.ml_manager import MLManager
from chapkit.domain.errors import BadRequestError, ChapkitException, ConflictError
from chapkit.domain.ml import PredictRequest, PredictResponse, TrainRequest, TrainResponse
from chapkit.domain.ml_checks import ValidateRequest, ValidationResponse

_UNPROCESSABLE: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "The body does not fit the schema (a `detail` list), or breaks what the service requires "
        "of its input (a problem naming the `field`)",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}},
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}},
        },
    }
}


def _count(request: Request, name: str) -> None:
    """Count an accepted submission when the service has monitoring on (FACTS: one per submission)."""
    metrics = get_service_metrics(request.app)
    if metrics is not None:
        metrics.increment(name)


T = TypeVar("T")


async def _submitted(job: Awaitable[T]) -> T:
    """Submit a job: a refusal (`ValueError`) is a 400 and a `RuntimeError` a 409, as in the reference.

    chapkit's own problems (some are also `ValueError`s) keep their own status.
    """
    try:
        return await job
    except ChapkitException:
        raise
    except ValueError as exc:
        raise BadRequestError(str(exc)) from exc
    except RuntimeError as exc:
        raise ConflictError(str(exc)) from exc


class MLRouter(Router):
    """Router with $train and $predict collection operations."""

    def __init__(self, prefix: str, tags: Sequence[str], manager_factory: ManagerFactory, **kwargs: Any) -> None:
        """Initialize ML router with manager factory."""
        self.manager_factory = manager_factory
        super().__init__(prefix=prefix, tags=tags, **kwargs)

    def _register_routes(self) -> None:
        """Register ML train, predict and validate routes."""
        manager_factory = self.manager_factory

        @self.router.post(
            "/$train",
            response_model=TrainResponse,
            status_code=status.HTTP_202_ACCEPTED,
            summary="Train model",
            description=(
                "Submit a training job to the scheduler. The answer names the job and the artifact the "
                "trained model will be stored in; follow the job at `/api/v1/jobs/{job_id}`."
            ),
            responses={**problem_responses(400, 404, 409), **_UNPROCESSABLE},
        )
        async def train(
            request: TrainRequest, http_request: Request, manager: MLManager = Depends(manager_factory)
        ) -> TrainResponse:
            """Train a model asynchronously and return job/artifact IDs."""
            response = await _submitted(manager.execute_train(request))
            _count(http_request, ML_TRAIN_JOBS_TOTAL)
            return response

        @self.router.post(
            "/$predict",
            response_model=PredictResponse,
            status_code=status.HTTP_202_ACCEPTED,
            summary="Make predictions",
            description=(
                "Submit a prediction job to the scheduler. The predictions are stored as a child artifact "
                "of the model artifact; the answer names the job and that artifact."
            ),
            responses={**problem_responses(400, 404, 409), **_UNPROCESSABLE},
        )
        async def predict(
            request: PredictRequest, http_request: Request, manager: MLManager = Depends(manager_factory)
        ) -> PredictResponse:
            """Make predictions asynchronously and return job/artifact IDs."""
            response = await _submitted(manager.execute_predict(request))
            _count(http_request, ML_PREDICT_JOBS_TOTAL)
            return response

        @self.router.post(
            "/$validate",
            response_model=ValidationResponse,
            summary="Validate a train or predict request",
            description=(
                'Check a train (`"type": "train"`) or predict (`"type": "predict"`) request without running '
                "it: the config or model artifact, the required columns, data types, row counts, periods and "
                "geo ids. `valid` is false when any diagnostic is an error."
            ),
            responses={**problem_responses(400), **_UNPROCESSABLE},
        )
        async def validate(
            request: ValidateRequest, manager: MLManager = Depends(manager_factory)
        ) -> ValidationResponse:
            """Check a train or predict request and return every finding."""
            return await manager.validate(request)


__all__ = ["MLRouter"]
