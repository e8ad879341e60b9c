"""`ServiceBuilder`: the base builder plus the config, artifact, task and ML modules (ML in `ml_module`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from fastapi import FastAPI

from chapkit.adapters.http.artifact_router import ArtifactRouter
from chapkit.adapters.http.config_router import ConfigRouter
from chapkit.adapters.http.crud import CrudPermissions
from chapkit.adapters.http.info import ServiceInfo
from chapkit.adapters.http.ml_info import MLServiceInfo
from chapkit.adapters.http.task_router import TaskRouter
from chapkit.application.task_manager import TaskManager
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.base_service_builder import BaseServiceBuilder
from chapkit.bootstrap.dependencies import ServiceRuntime
from chapkit.bootstrap.manager_dependencies import (
    artifact_manager_dependency,
    config_manager_dependency,
)
from chapkit.bootstrap.ml_module import MLOptions, check_ml_configuration, ml_options, register_ml_router
from chapkit.bootstrap.tasks import (
    TASKS_NEED_ARTIFACTS,
    TaskOptions,
    task_manager_dependency,
    task_manager_provider,
    validate_tasks_on_startup,
)
from chapkit.domain.artifact import ArtifactHierarchy, ArtifactIn, ArtifactOut
from chapkit.domain.config import BaseConfig, ConfigIn, ConfigOut
from chapkit.domain.ml import ModelRunnerProtocol
from chapkit.domain.task import TaskIn, TaskOut

CONFIG_LINKING_NEEDS_CONFIG = (
    "Artifact config-linking requires a config schema. "
    "Call `with_config(...)` before enabling config linking in artifacts."
)


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
        self._task_options: TaskOptions | None = None
        self._ml_options: MLOptions | None = None

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
        self._task_options = TaskOptions(
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
        self._ml_options = ml_options(runner, prefix, tags)
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
            check_ml_configuration(
                has_config=self._config_options is not None,
                has_artifacts=self._artifact_options is not None,
                has_jobs=self._job_options is not None,
            )

    def _register_module_routers(self, app: FastAPI) -> None:
        """Register the config and artifact routers, bound to this service's storage."""
        super()._register_module_routers(app)
        runtime: ServiceRuntime = app.state.service_runtime
        linking = self._artifact_options is not None and self._artifact_options.enable_config_linking
        config_dependency = None
        if self._config_options:
            options = self._config_options
            config_dependency = config_manager_dependency(options.schema, runtime)
            app.include_router(
                ConfigRouter.create(
                    prefix=options.prefix,
                    tags=options.tags,
                    manager_factory=config_dependency,
                    entity_in_type=ConfigIn[options.schema],  # type: ignore[name-defined]
                    entity_out_type=ConfigOut[options.schema],  # type: ignore[name-defined]
                    permissions=options.permissions,
                    enable_artifact_operations=linking,
                )
            )
            # Custom routers that depend on `get_config_manager` get this service's schema, as the
            # reference's do. Not through `app.dependency_overrides`: with any override set, FastAPI
            # analyses every dependency of every request again (`get_dependant`; see bench/http_load.py).
            runtime.config_schema = options.schema

        if self._artifact_options:
            artifact_options = self._artifact_options
            artifact_dependency = artifact_manager_dependency(artifact_options.hierarchy, linking, runtime)
            app.include_router(
                ArtifactRouter.create(
                    prefix=artifact_options.prefix,
                    tags=artifact_options.tags,
                    manager_factory=artifact_dependency,
                    entity_in_type=ArtifactIn,
                    entity_out_type=ArtifactOut,
                    permissions=artifact_options.permissions,
                    enable_config_access=linking,
                    config_manager_factory=config_dependency if linking else None,
                )
            )
            runtime.artifact_hierarchy = artifact_options.hierarchy
            runtime.artifact_includes_config = linking

        if self._ml_options and self._config_options:
            info = self._service_info()
            register_ml_router(app, self._ml_options, config_schema=self._config_options.schema, info=info)
        if self._task_options:
            self._register_task_router(app, runtime, self._task_options)

    def _service_info(self) -> ServiceInfo:
        """A model service built with the reference's plain `ServiceInfo` serves it as an `MLServiceInfo`.

        chap-core reads only an ML service's info (D24): the same fields, plus chap-core's with their
        defaults (an id derived from the name, `period_type` `any`, bounds 0 and 100), which the model's
        requests are then checked against. A subclass of `ServiceInfo` (with fields of its own) is kept.
        """
        if self._ml_options is not None and type(self.info) is ServiceInfo:
            return MLServiceInfo.model_validate(self.info.model_dump())
        return self.info

    def _register_task_router(self, app: FastAPI, runtime: ServiceRuntime, options: TaskOptions) -> None:
        """Register the task router and, if asked, the start-up check that disables orphaned Python tasks."""
        hierarchy = self._artifact_options.hierarchy if self._artifact_options else None
        app.include_router(
            TaskRouter.create(
                prefix=options.prefix,
                tags=options.tags,
                manager_factory=task_manager_dependency(runtime, hierarchy, options.registry),
                entity_in_type=TaskIn,
                entity_out_type=TaskOut,
                permissions=options.permissions,
            )
        )
        runtime.task_registry = options.registry
        runtime.job_instances[TaskManager] = task_manager_provider(runtime, hierarchy, options.registry)
        if options.validate_on_startup and validate_tasks_on_startup not in self._startup_hooks:
            self._startup_hooks.append(validate_tasks_on_startup)


__all__ = ["ServiceBuilder"]
