"""The public surface (D1): every name of the reference from `chapkit`, service-building names from `chapkit.api`."""

from __future__ import annotations

import chapkit
import chapkit.api

# Every class and function the reference documents (its API pages), kept here once.
REFERENCE_NAMES = [
    "AIOJobScheduler",
    "APIKeyMiddleware",
    "App",
    "AppInfo",
    "AppLoader",
    "AppManager",
    "AppManifest",
    "Artifact",
    "ArtifactHierarchy",
    "ArtifactIn",
    "ArtifactManager",
    "ArtifactOut",
    "ArtifactRepository",
    "ArtifactRouter",
    "ArtifactTreeNode",
    "BadRequestError",
    "Base",
    "BaseConfig",
    "BaseManager",
    "BaseModelRunner",
    "BaseRepository",
    "BaseServiceBuilder",
    "BulkOperationError",
    "BulkOperationResult",
    "ChapkitException",
    "Config",
    "ConfigArtifact",
    "ConfigIn",
    "ConfigManager",
    "ConfigOut",
    "ConfigRepository",
    "ConfigRouter",
    "ConflictError",
    "CrudPermissions",
    "CrudRouter",
    "Database",
    "Entity",
    "EntityIn",
    "EntityOut",
    "ErrorType",
    "ForbiddenError",
    "FunctionalModelRunner",
    "HealthRouter",
    "InvalidULIDError",
    "JobRecord",
    "JobRouter",
    "JobScheduler",
    "JobStatus",
    "LifecycleHooks",
    "LinkArtifactRequest",
    "MLManager",
    "MLRouter",
    "MLServiceBuilder",
    "Manager",
    "ModelRunnerProtocol",
    "NotFoundError",
    "PaginatedResponse",
    "PaginationParams",
    "PandasDataFrame",
    "PredictRequest",
    "PredictResponse",
    "PredictionArtifactData",
    "ProblemDetail",
    "Repository",
    "RequestLoggingMiddleware",
    "Router",
    "ServiceBuilder",
    "ServiceInfo",
    "ShellModelRunner",
    "SqliteDatabase",
    "SqliteDatabaseBuilder",
    "SystemRouter",
    "Task",
    "TaskIn",
    "TaskManager",
    "TaskOut",
    "TaskRegistry",
    "TaskRepository",
    "TaskRouter",
    "TrainRequest",
    "TrainResponse",
    "TrainedModelArtifactData",
    "ULIDType",
    "UnauthorizedError",
    "UnlinkArtifactRequest",
    "ValidationError",
    "add_error_handlers",
    "add_logging_middleware",
    "add_request_context",
    "build_location_url",
    "chapkit_exception_handler",
    "clear_request_context",
    "configure_logging",
    "create_paginated_response",
    "database_error_handler",
    "get_app_manager",
    "get_artifact_manager",
    "get_config_manager",
    "get_database",
    "get_logger",
    "get_ml_manager",
    "get_scheduler",
    "get_session",
    "get_task_manager",
    "reset_request_context",
    "run_app",
    "set_app_manager",
    "set_database",
    "set_scheduler",
    "validate_and_disable_orphaned_tasks",
    "validation_error_handler",
]

# The service-building names (D1) `chapkit.api` also offers: builders, infos, routers, middleware, error
# handlers, dependency functions, run_app, build_location_url and the logging functions.
SERVICE_NAMES = [
    "BaseServiceBuilder",
    "ServiceBuilder",
    "MLServiceBuilder",
    "ServiceInfo",
    "MLServiceInfo",
    "ModelMetadata",
    "TrainResult",
    "MLProject",
    "MLProjectError",
    "ModelWorkspace",
    "load_mlproject",
    "mlproject_app",
    "mlproject_builder",
    "AssessedStatus",
    "Router",
    "CrudRouter",
    "ConfigRouter",
    "ArtifactRouter",
    "TaskRouter",
    "JobRouter",
    "HealthRouter",
    "SystemRouter",
    "MLRouter",
    "APIKeyMiddleware",
    "RequestLoggingMiddleware",
    "add_error_handlers",
    "add_logging_middleware",
    "chapkit_exception_handler",
    "database_error_handler",
    "validation_error_handler",
    "get_database",
    "get_session",
    "get_scheduler",
    "get_config_manager",
    "get_artifact_manager",
    "get_task_manager",
    "get_ml_manager",
    "get_app_manager",
    "set_database",
    "set_scheduler",
    "set_app_manager",
    "run_app",
    "build_location_url",
    "configure_logging",
    "get_logger",
    "add_request_context",
    "clear_request_context",
    "reset_request_context",
]


def test_every_reference_name_is_importable_from_chapkit() -> None:
    missing = [name for name in REFERENCE_NAMES if name not in chapkit.__all__ or not hasattr(chapkit, name)]
    assert not missing


def test_service_building_names_are_importable_from_chapkit_api_as_the_same_objects() -> None:
    for name in SERVICE_NAMES:
        assert name in chapkit.api.__all__
        assert getattr(chapkit.api, name) is getattr(chapkit, name)


def test_chapkit_api_is_part_of_chapkit_and_no_name_is_listed_twice() -> None:
    assert set(chapkit.api.__all__) <= set(chapkit.__all__)
    assert len(chapkit.__all__) == len(set(chapkit.__all__))
    assert len(chapkit.api.__all__) == len(set(chapkit.api.__all__))
    assert all(hasattr(chapkit, name) for name in chapkit.__all__)


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from chapkit import *", namespace)
    assert set(REFERENCE_NAMES) <= set(namespace)
