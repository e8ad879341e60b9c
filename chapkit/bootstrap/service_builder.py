"""`ServiceBuilder`: the base builder plus the config, artifact, task and ML modules.

Each module adds to the service's spec (schema, hierarchy, registry, runner) and serves its router
through dependencies of its own (`builtin_config_manager`, `builtin_artifact_manager`,
`builtin_task_manager`: the reference's `get_*_manager` on the request's unit of work, opened without a
generator dependency; `builtin_ml_manager`, the reference's `get_ml_manager`), which reach the running
service's application services (D6, D21).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Self

from fastapi import FastAPI

from chapkit.adapters.http.artifact_router import ArtifactRouter
from chapkit.adapters.http.config_router import ConfigRouter
from chapkit.adapters.http.crud import CrudPermissions
from chapkit.adapters.http.info import ServiceInfo
from chapkit.adapters.http.ml_info import MLServiceInfo
from chapkit.adapters.http.ml_router import MLRouter
from chapkit.adapters.http.task_router import TaskRouter
from chapkit.adapters.observability import get_logger
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.base_service_builder import BaseServiceBuilder
from chapkit.bootstrap.containers import ServiceSpec
from chapkit.bootstrap.dependencies import (
    ServiceRuntime,
    builtin_artifact_manager,
    builtin_config_manager,
    builtin_ml_manager,
    builtin_task_manager,
)
from chapkit.domain.artifact import ArtifactHierarchy, ArtifactIn, ArtifactOut
from chapkit.domain.config import BaseConfig, ConfigIn, ConfigOut
from chapkit.domain.ml import ModelRunnerProtocol
from chapkit.domain.task import TaskIn, TaskOut

logger = get_logger(__name__)

CONFIG_LINKING_NEEDS_CONFIG = (
    "Artifact config-linking requires a config schema. "
    "Call `with_config(...)` before enabling config linking in artifacts."
)
TASKS_NEED_ARTIFACTS = (
    "Task execution requires artifacts to store results. Call `with_artifacts(...)` before `with_tasks()`."
)
ML_NEEDS_CONFIG = "ML operations require config for model configuration. Call `with_config(...)` before `with_ml(...)`."
ML_NEEDS_ARTIFACTS = (
    "ML operations require artifacts for model storage. Call `with_artifacts(...)` before `with_ml(...)`."
)
ML_NEEDS_JOBS = "ML operations require job scheduler for async execution. Call `with_jobs(...)` before `with_ml(...)`."


@dataclass(slots=True)
class _ConfigOptions:
    schema: type[BaseConfig]
    prefix: str
    tags: list[str]
    permissions: CrudPermissions


@dataclass(slots=True)
class _ArtifactOptions:
    hierarchy: ArtifactHierarchy
    prefix: str
    tags: list[str]
    enable_config_linking: bool
    permissions: CrudPermissions


@dataclass(slots=True)
class _TaskOptions:
    prefix: str
    tags: list[str]
    permissions: CrudPermissions
    validate_on_startup: bool
    registry: TaskRegistry | None


@dataclass(slots=True)
class _MLOptions:
    runner: ModelRunnerProtocol
    prefix: str
    tags: list[str]


def _permissions(
    permissions: CrudPermissions | None,
    create: bool | None,
    read: bool | None,
    update: bool | None,
    delete: bool | None,
) -> CrudPermissions:
    """`permissions` (all allowed by default) with the explicit `allow_*` flags taking precedence."""
    base = permissions or CrudPermissions()
    return CrudPermissions(
        create=base.create if create is None else create,
        read=base.read if read is None else read,
        update=base.update if update is None else update,
        delete=base.delete if delete is None else delete,
    )


class ServiceBuilder(BaseServiceBuilder):
    """Service builder with integrated module support (config, artifact, task)."""

    def __init__(self, **kwargs: Any) -> None:
        """Initialize service builder with module-specific state."""
        super().__init__(**kwargs)
        self._config_options: _ConfigOptions | None = None
        self._artifact_options: _ArtifactOptions | None = None
        self._task_options: _TaskOptions | None = None
        self._ml_options: _MLOptions | None = None

    def with_config(
        self,
        schema: type[BaseConfig],
        *,
        prefix: str = "/api/v1/configs",
        tags: list[str] | None = None,
        permissions: CrudPermissions | None = None,
        allow_create: bool | None = None,
        allow_read: bool | None = None,
        allow_update: bool | None = None,
        allow_delete: bool | None = None,
    ) -> Self:
        """Add config CRUD endpoints whose `data` is validated into `schema`."""
        self._service_spec = replace(self._service_spec, config_schema=schema)
        self._config_options = _ConfigOptions(
            schema=schema,
            prefix=prefix,
            tags=list(tags) if tags else ["Config"],
            permissions=_permissions(permissions, allow_create, allow_read, allow_update, allow_delete),
        )
        return self

    def with_artifacts(
        self,
        *,
        hierarchy: ArtifactHierarchy,
        prefix: str = "/api/v1/artifacts",
        tags: list[str] | None = None,
        enable_config_linking: bool = False,
        permissions: CrudPermissions | None = None,
        allow_create: bool | None = None,
        allow_read: bool | None = None,
        allow_update: bool | None = None,
        allow_delete: bool | None = None,
    ) -> Self:
        """Add artifact CRUD and tree endpoints; with `enable_config_linking`, configs link to root artifacts."""
        self._service_spec = replace(self._service_spec, hierarchy=hierarchy, config_linking=enable_config_linking)
        self._artifact_options = _ArtifactOptions(
            hierarchy=hierarchy,
            prefix=prefix,
            tags=list(tags) if tags else ["Artifacts"],
            enable_config_linking=enable_config_linking,
            permissions=_permissions(permissions, allow_create, allow_read, allow_update, allow_delete),
        )
        return self

    def with_tasks(
        self,
        *,
        prefix: str = "/api/v1/tasks",
        tags: list[str] | None = None,
        permissions: CrudPermissions | None = None,
        validate_on_startup: bool = True,
        allow_create: bool | None = None,
        allow_read: bool | None = None,
        allow_update: bool | None = None,
        allow_delete: bool | None = None,
        registry: TaskRegistry | None = None,
    ) -> Self:
        """Enable task execution endpoints with script runner.

        `registry` holds this service's Python task functions (the default `TaskRegistry` when None).
        """
        self._service_spec = replace(self._service_spec, task_registry=registry)
        self._task_options = _TaskOptions(
            prefix=prefix,
            tags=list(tags) if tags else ["Tasks"],
            permissions=_permissions(permissions, allow_create, allow_read, allow_update, allow_delete),
            validate_on_startup=validate_on_startup,
            registry=registry,
        )
        return self

    def with_ml(
        self,
        runner: ModelRunnerProtocol,
        *,
        prefix: str = "/api/v1/ml",
        tags: list[str] | None = None,
    ) -> Self:
        """Enable ML train/predict endpoints with model runner."""
        for method in ("on_train", "on_predict"):
            if not callable(getattr(runner, method, None)):
                raise TypeError(
                    f"with_ml() needs a model runner with async `on_train` and `on_predict` "
                    f"(e.g. FunctionalModelRunner, ShellModelRunner); {type(runner).__name__} has no `{method}`"
                )
        self._service_spec = replace(self._service_spec, runner=runner)
        self._ml_options = _MLOptions(runner=runner, prefix=prefix, tags=list(tags) if tags else ["ML"])
        return self

    # ---------------------------------------------------------------- extension points

    def _validate_module_configuration(self) -> None:
        """Validate module-specific configuration."""
        super()._validate_module_configuration()
        if self._artifact_options and self._artifact_options.enable_config_linking and not self._config_options:
            raise ValueError(CONFIG_LINKING_NEEDS_CONFIG)
        if self._task_options and not self._artifact_options:
            raise ValueError(TASKS_NEED_ARTIFACTS)
        if self._ml_options:
            if not self._config_options:
                raise ValueError(ML_NEEDS_CONFIG)
            if not self._artifact_options:
                raise ValueError(ML_NEEDS_ARTIFACTS)
            if not self._job_options:
                raise ValueError(ML_NEEDS_JOBS)

    def _spec(self) -> ServiceSpec:
        """The base spec plus what the model's info declares of its requests."""
        spec = super()._spec()
        return replace(spec, requirements=self._service_info().requirements()) if self._ml_options else spec

    def _register_module_routers(self, app: FastAPI) -> None:
        """Register the modules' routers: each reaches the running service through the `get_*` dependencies."""
        super()._register_module_routers(app)
        linking = self._artifact_options is not None and self._artifact_options.enable_config_linking
        config_manager = builtin_config_manager
        if self._config_options:
            options = self._config_options
            app.include_router(
                ConfigRouter.create(
                    prefix=options.prefix,
                    tags=options.tags,
                    manager_factory=config_manager,
                    entity_in_type=ConfigIn[options.schema],  # type: ignore[name-defined]
                    entity_out_type=ConfigOut[options.schema],  # type: ignore[name-defined]
                    permissions=options.permissions,
                    enable_artifact_operations=linking,
                )
            )
        if self._artifact_options:
            artifact_options = self._artifact_options
            app.include_router(
                ArtifactRouter.create(
                    prefix=artifact_options.prefix,
                    tags=artifact_options.tags,
                    manager_factory=builtin_artifact_manager,
                    entity_in_type=ArtifactIn,
                    entity_out_type=ArtifactOut,
                    permissions=artifact_options.permissions,
                    enable_config_access=linking,
                    config_manager_factory=config_manager if linking else None,
                )
            )
        if self._ml_options:
            ml = self._ml_options
            app.include_router(MLRouter.create(prefix=ml.prefix, tags=ml.tags, manager_factory=builtin_ml_manager))
        if self._task_options:
            tasks = self._task_options
            app.include_router(
                TaskRouter.create(
                    prefix=tasks.prefix,
                    tags=tasks.tags,
                    manager_factory=builtin_task_manager,
                    entity_in_type=TaskIn,
                    entity_out_type=TaskOut,
                    permissions=tasks.permissions,
                )
            )
            if tasks.validate_on_startup and validate_tasks_on_startup not in self._startup_hooks:
                self._startup_hooks.append(validate_tasks_on_startup)

    def _service_info(self) -> ServiceInfo:
        """A model service built with the reference's plain `ServiceInfo` serves it as an `MLServiceInfo`.

        chap-core reads only an ML service's info (D24): the same fields, plus chap-core's with their
        defaults (an id derived from the name, `period_type` `any`, bounds 0 and 100), which the model's
        requests are then checked against. A subclass of `ServiceInfo` (with fields of its own) is kept.
        """
        if self._ml_options is not None and type(self.info) is ServiceInfo:
            return MLServiceInfo.model_validate(self.info.model_dump())
        return self.info


async def validate_and_disable_orphaned_tasks(app: FastAPI) -> int:
    """Validate Python tasks and disable orphaned ones that reference missing functions."""
    runtime: ServiceRuntime | None = getattr(app.state, "service_runtime", None)
    if runtime is None or runtime.services is None:
        logger.debug("tasks.validation.skipped", reason="no database")
        return 0
    disabled = await runtime.services.tasks.disable_orphaned()
    if disabled:
        logger.warning("tasks.orphaned.disabled_count", count=disabled)
    return disabled


async def validate_tasks_on_startup(app: FastAPI) -> None:
    """Start-up hook of `with_tasks(validate_on_startup=True)`: disable orphaned Python tasks."""
    await validate_and_disable_orphaned_tasks(app)


__all__ = ["ServiceBuilder", "validate_and_disable_orphaned_tasks", "validate_tasks_on_startup"]
