"""`MLRouter`: `$train` and `$predict` submit jobs (202), `$validate` checks a request without running it."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Query, Request, Response, status
from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from chapkit.adapters.http.crud import JSON_MEDIA_TYPE, ManagerFactory
from chapkit.adapters.http.direct_route import is_request_scoped, serve_directly_with_body
from chapkit.adapters.http.frame_route import FrameRoute
from chapkit.adapters.http.ml_examples import PREDICT_BODY, TRAIN_BODY, VALIDATE_BODY
from chapkit.adapters.http.monitoring import get_service_metrics
from chapkit.adapters.http.problems import PROBLEM_MEDIA_TYPE, problem_responses
from chapkit.adapters.http.router import Router
from chapkit.adapters.observability.metrics import ML_PREDICT_JOBS_TOTAL, ML_TRAIN_JOBS_TOTAL
from chapkit.application.ml_manager import MLManager
from chapkit.domain.config import ADDITIONAL_CONTINUOUS_COVARIATES as COVARIATES
from chapkit.domain.config import PREDICTION_PERIODS
from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.errors import BadRequestError, ChapkitException, ConflictError, NotFoundError
from chapkit.domain.forecasts import frame_schema
from chapkit.domain.ids import ULIDValue
from chapkit.domain.ml import PredictRequest, PredictResponse, TrainRequest, TrainResponse
from chapkit.domain.ml_checks import PeriodType, ValidateRequest, ValidationResponse
from chapkit.domain.sample_data import location_names, sample_frames, sample_geo

# A sample is a payload to try a service with, not a load test: at most 100 locations x 520 periods
# (ten years of weeks), a few MB of JSON, built on a worker thread so other requests go on.
_MAX_LOCATIONS = 100
_MAX_PERIODS = 520
_MAX_FEATURES = 10

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
    """Count an accepted submission when the service has monitoring on (one count per accepted submission)."""
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


async def _train(http_request: Request, request: TrainRequest, manager: MLManager) -> TrainResponse:
    response = await _submitted(manager.execute_train(request))
    _count(http_request, ML_TRAIN_JOBS_TOTAL)
    return response


async def _predict(http_request: Request, request: PredictRequest, manager: MLManager) -> PredictResponse:
    response = await _submitted(manager.execute_predict(request))
    _count(http_request, ML_PREDICT_JOBS_TOTAL)
    return response


E = TypeVar("E", bound=Callable[..., Any])


def _direct_when_built_in(
    endpoint: E,
    factory: ManagerFactory,
    serve: Callable[[Request, Any, MLManager], Awaitable[BaseModel]],
    body: type[BaseModel],
    answer: type[BaseModel],
) -> E:
    """`endpoint`, served directly (`DirectRoute`) when `factory` is chapkit's built-in (`request_scoped`).

    A JSON body that validates as `body` goes to `serve` with the factory's manager, and its answer is
    written as FastAPI writes the route's `response_model`; any other request, and every request on a
    users' factory (which FastAPI must solve, overrides included), is FastAPI's.
    """
    if not is_request_scoped(factory):
        return endpoint
    written = TypeAdapter(answer)

    async def handler(request: Request, value: Any) -> Response:
        served = await serve(request, value, await factory(request))
        return Response(written.dump_json(served), status_code=status.HTTP_202_ACCEPTED, media_type=JSON_MEDIA_TYPE)

    return serve_directly_with_body(endpoint, handler, TypeAdapter(body))


def _within(value: int, low: int | None, high: int | None) -> int:
    if high is not None:
        value = min(value, high)
    if low is not None:
        value = max(value, low)
    return max(value, 1)


def _described(frame: PandasDataFrame) -> dict[str, Any]:
    """A frame as a request body member, with the self-describing `schema` the newer contract attaches."""
    return {"columns": frame.columns, "data": frame.data, "schema": frame_schema(frame.to_dataframe())}


class MLRouter(Router):
    """Router with $train and $predict collection operations."""

    def __init__(self, prefix: str, tags: Sequence[str], manager_factory: ManagerFactory, **kwargs: Any) -> None:
        """Initialize ML router with manager factory; its routes read frames column by column (`FrameRoute`)."""
        self.manager_factory = manager_factory
        kwargs.setdefault("route_class", FrameRoute)
        super().__init__(prefix=prefix, tags=tags, **kwargs)

    def _register_routes(self) -> None:
        """Register ML train, predict and validate routes."""
        manager_factory = self.manager_factory

        async def train(
            request: Annotated[TrainRequest, TRAIN_BODY],
            http_request: Request,
            manager: MLManager = Depends(manager_factory),
        ) -> TrainResponse:
            """Train a model asynchronously and return job/artifact IDs."""
            return await _train(http_request, request, manager)

        self.router.post(
            "/$train",
            response_model=TrainResponse,
            status_code=status.HTTP_202_ACCEPTED,
            summary="Train model",
            description=(
                "Submit a training job to the scheduler. The answer names the job and the artifact the trained "
                "model will be stored in (as `artifact_id` and `model_artifact_id`); follow the job at "
                "`/api/v1/jobs/{job_id}`. A well-formed request is always accepted: an unknown config, data the "
                "model cannot use or a horizon outside the service's bounds fail the job with the reason "
                "(`$validate` reports them up front)."
            ),
            responses={**problem_responses(400, 409), **_UNPROCESSABLE},
        )(_direct_when_built_in(train, manager_factory, _train, TrainRequest, TrainResponse))

        async def predict(
            request: Annotated[PredictRequest, PREDICT_BODY],
            http_request: Request,
            manager: MLManager = Depends(manager_factory),
        ) -> PredictResponse:
            """Make predictions asynchronously and return job/artifact IDs."""
            return await _predict(http_request, request, manager)

        self.router.post(
            "/$predict",
            response_model=PredictResponse,
            status_code=status.HTTP_202_ACCEPTED,
            summary="Make predictions",
            description=(
                "Submit a prediction job to the scheduler. Name the trained model by `artifact_id` or "
                "`model_artifact_id` (one of them). The predictions are stored as a child artifact of the model "
                "artifact, in the shape of the contract generation the request used: naming `artifact_id` or "
                "sending `run_info` stores chap-core's shape (`location`, `time_period`, `sample_0..N`). The "
                "answer names the job and that artifact (as `artifact_id` and `prediction_artifact_id`)."
            ),
            responses={**problem_responses(400, 409), **_UNPROCESSABLE},
        )(_direct_when_built_in(predict, manager_factory, _predict, PredictRequest, PredictResponse))

        @self.router.get(
            "/$generate-sample-data",
            summary="Generate a sample train or predict payload",
            description=(
                "A ready-to-submit `$train` (`kind=train`: `{data, config_id?, geo?}`) or `$predict` "
                "(`kind=predict`: `{historic, future, geo?}`) body of synthetic seasonal data with the columns "
                "this service requires, plus the config's `additional_continuous_covariates` when `config_id` is "
                "given (without any, `num_features` columns `feature_1..`). The future covers the horizon "
                "(`prediction_periods`, else the config's, else 3) kept inside the service's bounds and at most "
                f"{_MAX_PERIODS} periods. A seed (>= 0) makes the data reproducible."
            ),
            response_model=dict[str, Any],
            responses=problem_responses(400, 404),
        )
        async def generate_sample_data(
            kind: Literal["train", "predict"] = "train",
            config_id: ULIDValue | None = None,
            num_locations: Annotated[int, Query(ge=1, le=_MAX_LOCATIONS)] = 5,
            num_periods: Annotated[int, Query(ge=1, le=_MAX_PERIODS)] = 50,
            num_features: Annotated[int, Query(ge=0, le=_MAX_FEATURES)] = 3,
            prediction_periods: Annotated[int | None, Query(ge=1, le=_MAX_PERIODS)] = None,
            period_type: Literal["monthly", "weekly", "month", "week"] | None = None,
            geo_type: Literal["polygon", "point"] = "polygon",
            include_geo: bool | None = None,
            seed: int = -1,
            manager: MLManager = Depends(manager_factory),
        ) -> Response:
            """Build a sample train or predict body for this service (on a worker thread: it may be MBs)."""
            needs = manager.requirements
            covariates = list(needs.required_covariates)
            horizon = prediction_periods
            if config_id is not None:
                data = await manager.config_data(config_id)
                if data is None:
                    raise NotFoundError(f"Config {config_id} not found")
                extra = data.get(COVARIATES)
                if isinstance(extra, list):
                    covariates += [str(name) for name in extra if str(name) not in covariates]
                configured = data.get(PREDICTION_PERIODS)
                if horizon is None and isinstance(configured, int) and not isinstance(configured, bool):
                    horizon = configured
            if not covariates:
                covariates = [f"feature_{index}" for index in range(1, num_features + 1)]
            horizon = _within(horizon or 3, needs.min_prediction_periods, needs.max_prediction_periods)
            horizon = min(horizon, _MAX_PERIODS)
            declared = needs.period_type if needs.period_type != PeriodType.any else None
            periods = PeriodType(period_type) if period_type else (declared or PeriodType.monthly)
            with_geo = needs.requires_geo if include_geo is None else include_geo

            def build() -> bytes:
                rng = random.Random(seed if seed >= 0 else None)
                locations = location_names(num_locations)
                history, future = sample_frames(
                    covariates=covariates,
                    period_type=periods,
                    locations=locations,
                    history=num_periods,
                    horizon=horizon,
                    rng=rng,
                )
                body: dict[str, Any] = {}
                if kind == "predict":
                    body["historic"] = _described(history)
                    body["future"] = _described(future)
                else:
                    body["data"] = _described(history)
                    if config_id is not None:
                        body["config_id"] = str(config_id)
                if with_geo:
                    body["geo"] = sample_geo(locations, geo_type)
                return to_json(body)

            return Response(await run_in_threadpool(build), media_type="application/json")

        @self.router.post(
            "/$validate",
            response_model=ValidationResponse,
            summary="Validate a train or predict request",
            description=(
                'Check a train (`"type": "train"`) or predict (`"type": "predict"`) request without running '
                "it, in either generation's shape (`artifact_id` or `model_artifact_id`, optional `run_info`): the "
                "config or training artifact, the required columns, data types, empty frames, period formats, "
                "the horizon against the service's bounds and geo ids. `valid` is false when any diagnostic is "
                "an error. Codes include the newer contract's `config_not_found`, `training_artifact_not_found`, "
                "`invalid_training_artifact`, `training_artifact_failed`, `data_empty`, `historic_empty` (a "
                "warning), `future_empty`, `prediction_periods_out_of_bounds` and `prediction_periods_mismatch`."
            ),
            responses={**problem_responses(400), **_UNPROCESSABLE},
        )
        async def validate(
            request: Annotated[ValidateRequest, VALIDATE_BODY], manager: MLManager = Depends(manager_factory)
        ) -> ValidationResponse:
            """Check a train or predict request and return every finding."""
            return await manager.validate(request)


__all__ = ["MLRouter"]
