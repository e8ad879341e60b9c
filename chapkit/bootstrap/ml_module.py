"""The ML module of `ServiceBuilder`: `with_ml(runner)`'s options, its checks, its router and `get_ml_manager`.

`ServiceBuilder` keeps only thin hooks into this module (so other modules stay independent of it):
`with_ml` stores `MLOptions`, `_validate_module_configuration` calls `check_ml_configuration`, and
`_register_module_routers` calls `register_ml_router`.

The manager a request gets is built by the service's container (`ServiceContainer.ml_manager`) with
the runner, the running scheduler, the config schema and the requirements the `MLServiceInfo` declares;
its jobs open their units of work from the same container (D21).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from fastapi import FastAPI

from chapkit.adapters.http.info import ServiceInfo
from chapkit.adapters.http.ml_router import MLRouter
from chapkit.adapters.scheduler.references import InstanceProvider
from chapkit.application.ml_manager import MLManager
from chapkit.bootstrap.dependencies import ServiceRuntime, current_runtime
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import ModelRunnerProtocol
from chapkit.domain.ml_checks import ModelRequirements

MLManagerDependency = Callable[[], Awaitable[MLManager]]

ML_NEEDS_CONFIG = "ML operations require config for model configuration. Call `with_config(...)` before `with_ml(...)`."
ML_NEEDS_ARTIFACTS = (
    "ML operations require artifacts for model storage. Call `with_artifacts(...)` before `with_ml(...)`."
)
ML_NEEDS_JOBS = "ML operations require job scheduler for async execution. Call `with_jobs(...)` before `with_ml(...)`."
ML_NOT_CONFIGURED = "ML manager dependency not configured. Use ServiceBuilder.with_ml() to enable ML operations."


@dataclass(slots=True)
class MLOptions:
    """What `with_ml` was given."""

    runner: ModelRunnerProtocol
    prefix: str
    tags: list[str]


def ml_options(runner: ModelRunnerProtocol, prefix: str, tags: list[str] | None) -> MLOptions:
    """The options of `with_ml(runner, prefix=..., tags=...)`; a runner without `on_train`/`on_predict` is refused."""
    for method in ("on_train", "on_predict"):
        if not callable(getattr(runner, method, None)):
            raise TypeError(
                f"with_ml() needs a model runner with async `on_train` and `on_predict` "
                f"(e.g. FunctionalModelRunner, ShellModelRunner); {type(runner).__name__} has no `{method}`"
            )
    return MLOptions(runner=runner, prefix=prefix, tags=list(tags) if tags else ["ML"])


def check_ml_configuration(*, has_config: bool, has_artifacts: bool, has_jobs: bool) -> None:
    """Raise the reference's `ValueError` when a module ML needs is missing."""
    if not has_config:
        raise ValueError(ML_NEEDS_CONFIG)
    if not has_artifacts:
        raise ValueError(ML_NEEDS_ARTIFACTS)
    if not has_jobs:
        raise ValueError(ML_NEEDS_JOBS)


def requirements_of(info: ServiceInfo) -> ModelRequirements:
    """What the service's info declares of train and predict requests (nothing for a plain `ServiceInfo`)."""
    return info.requirements()


def ml_manager_dependency(
    runtime: ServiceRuntime,
    runner: ModelRunnerProtocol,
    config_schema: type[BaseConfig],
    requirements: ModelRequirements,
) -> MLManagerDependency:
    """A dependency giving ML managers built by `runtime`'s container."""

    async def dependency() -> MLManager:
        manager: MLManager = runtime.require_container().ml_manager(
            runner=runner,
            scheduler=runtime.require_scheduler(),
            config_schema=config_schema,
            requirements=requirements,
        )
        return manager

    return dependency


_ml_dependencies: WeakKeyDictionary[ServiceRuntime, MLManagerDependency] = WeakKeyDictionary()
"""Each ML service's manager dependency, for `get_ml_manager` (kept beside the runtime, gone with it)."""


def register_ml_router(
    app: FastAPI,
    options: MLOptions,
    *,
    config_schema: type[BaseConfig],
    info: ServiceInfo,
) -> None:
    """Serve `$train`, `$predict` and `$validate` for `app`'s service with `options.runner`."""
    runtime: ServiceRuntime = app.state.service_runtime
    dependency = ml_manager_dependency(runtime, options.runner, config_schema, requirements_of(info))
    app.include_router(MLRouter.create(prefix=options.prefix, tags=options.tags, manager_factory=dependency))
    _ml_dependencies[runtime] = dependency
    runtime.job_instances[MLManager] = provided(dependency)


def provided(dependency: MLManagerDependency) -> InstanceProvider:
    """The ML manager a worker runs train and predict jobs on: the service's own, as over HTTP (D22)."""

    @asynccontextmanager
    async def manager() -> AsyncIterator[object]:
        yield await dependency()

    return manager


async def get_ml_manager() -> MLManager:
    """Get an ML manager instance for dependency injection (the current service's, D6).

    Raises `RuntimeError` when the current service was built without `with_ml()`.
    """
    dependency = _ml_dependencies.get(current_runtime())
    if dependency is None:
        raise RuntimeError(ML_NOT_CONFIGURED)
    return await dependency()


__all__ = [
    "MLManagerDependency",
    "MLOptions",
    "check_ml_configuration",
    "get_ml_manager",
    "ml_manager_dependency",
    "ml_options",
    "register_ml_router",
    "requirements_of",
]
