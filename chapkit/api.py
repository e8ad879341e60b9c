"""Service-building names (D1): builders, routers, middleware, handlers, dependencies and helpers."""

from typing import TYPE_CHECKING

from chapkit._exports import lazy_exports

# Each name loads when it is first used (`chapkit._exports`); this block is the one list of where they live.
if TYPE_CHECKING:
    from chapkit.adapters.http import (
        APIKeyMiddleware,
        App,
        AppInfo,
        AppLoader,
        AppManager,
        AppManifest,
        ArtifactRouter,
        CheckResult,
        ConfigRouter,
        CrudPermissions,
        CrudRouter,
        HealthCheck,
        HealthRouter,
        HealthState,
        HealthStatus,
        JobRouter,
        MetricsRouter,
        PaginationParams,
        RequestLoggingMiddleware,
        Router,
        ServiceInfo,
        SystemInfo,
        SystemRouter,
        TaskRouter,
        add_error_handlers,
        add_logging_middleware,
        build_location_url,
        chapkit_exception_handler,
        create_paginated_response,
        database_error_handler,
        validation_error_handler,
    )
    from chapkit.adapters.http.ml_info import AssessedStatus, MLServiceInfo, ModelMetadata
    from chapkit.adapters.http.ml_router import MLRouter
    from chapkit.adapters.http.serving import run_app
    from chapkit.adapters.observability import (
        add_request_context,
        clear_request_context,
        configure_logging,
        get_logger,
        reset_request_context,
    )
    from chapkit.adapters.runners.model_workspace import ModelWorkspace
    from chapkit.adapters.runners.shell_model_runner import ShellModelRunner
    from chapkit.application.ml_runners import FunctionalModelRunner
    from chapkit.bootstrap.base_service_builder import BaseServiceBuilder
    from chapkit.bootstrap.dependencies import (
        get_app_manager,
        get_artifact_manager,
        get_config_manager,
        get_database,
        get_ml_manager,
        get_scheduler,
        get_session,
        get_task_manager,
        set_app_manager,
        set_database,
        set_scheduler,
    )
    from chapkit.bootstrap.ml_service_builder import MLServiceBuilder
    from chapkit.bootstrap.service_builder import ServiceBuilder
    from chapkit.domain.trained_models import TrainResult
    from chapkit.mlproject import MLProject, MLProjectError, load_mlproject, mlproject_app, mlproject_builder
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "ArtifactRouter",
    "ConfigRouter",
    "ServiceBuilder",
    "get_artifact_manager",
    "get_config_manager",
    "APIKeyMiddleware",
    "App",
    "AppInfo",
    "AppLoader",
    "AppManager",
    "AppManifest",
    "CheckResult",
    "CrudPermissions",
    "CrudRouter",
    "HealthCheck",
    "HealthRouter",
    "HealthState",
    "HealthStatus",
    "JobRouter",
    "MetricsRouter",
    "PaginationParams",
    "RequestLoggingMiddleware",
    "Router",
    "ServiceInfo",
    "SystemInfo",
    "SystemRouter",
    "add_error_handlers",
    "add_logging_middleware",
    "build_location_url",
    "chapkit_exception_handler",
    "create_paginated_response",
    "database_error_handler",
    "validation_error_handler",
    "BaseServiceBuilder",
    "get_app_manager",
    "get_database",
    "get_scheduler",
    "get_session",
    "run_app",
    "set_app_manager",
    "set_database",
    "set_scheduler",
    "add_request_context",
    "clear_request_context",
    "configure_logging",
    "get_logger",
    "reset_request_context",
    "TaskRouter",
    "get_task_manager",
]

# The ML module (issue 10).
__all__ += [
    "AssessedStatus",
    "FunctionalModelRunner",
    "MLRouter",
    "MLServiceBuilder",
    "MLServiceInfo",
    "ShellModelRunner",
    "get_ml_manager",
]

# CHAP interoperability (issue 19): authorship as chap-core reads it, nested in the info.
__all__ += ["ModelMetadata"]

# Model metrics (issue 21): what a train function returns to report metrics with its model.
__all__ += ["TrainResult"]

# Existing CHAP models served as they are: MLproject directories, and the runner's workspace mode.
__all__ += ["MLProject", "MLProjectError", "ModelWorkspace", "load_mlproject", "mlproject_app", "mlproject_builder"]
