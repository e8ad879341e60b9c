"""chapkit: build ML model services with typed configs, artifacts, jobs and train/predict workflows.

Every public name of the reference is importable from here (D1); service-building names are also in
`chapkit.api`.
"""

from typing import TYPE_CHECKING

from chapkit._exports import lazy_exports
from chapkit.api import __all__ as _service_building_names

# Every name below loads when it is first used (`chapkit._exports`): `import chapkit` stays cheap, so
# the `chapkit` command starts without the service stack. This block is the one list of the names.
if TYPE_CHECKING:
    from chapkit.adapters.memory import (
        InMemoryArtifactStore,
        InMemoryConfigStore,
        InMemoryDatastore,
        InMemoryJobRecordStore,
        InMemoryRepository,
        InMemoryTaskStore,
    )

    # The names these classes had before ports and adapters were named by one rule (a port is a plain
    # noun, an adapter is technology + port): still importable from here, not listed in `__all__`.
    from chapkit.adapters.memory import InMemoryArtifactStore as InMemoryArtifactRepository  # noqa: F401 (an old name)
    from chapkit.adapters.memory import InMemoryConfigStore as InMemoryConfigRepository  # noqa: F401 (an old name)
    from chapkit.adapters.memory import InMemoryDatastore as InMemoryDatabase  # noqa: F401 (an old name)
    from chapkit.adapters.scheduler import AIOJobScheduler
    from chapkit.adapters.sql import (
        ArtifactRepository,
        Base,
        BaseRepository,
        ConfigRepository,
        Database,
        Entity,
        SqliteDatabase,
        SqliteDatabaseBuilder,
        SqlJobRecordStore,
        TaskRepository,
        ULIDType,
    )

    # The service-building names, re-exported from `chapkit.api` (D1; a test keeps the two lists equal).
    from chapkit.api import (
        APIKeyMiddleware as APIKeyMiddleware,
    )
    from chapkit.api import (
        App as App,
    )
    from chapkit.api import (
        AppInfo as AppInfo,
    )
    from chapkit.api import (
        AppLoader as AppLoader,
    )
    from chapkit.api import (
        AppManager as AppManager,
    )
    from chapkit.api import (
        AppManifest as AppManifest,
    )
    from chapkit.api import (
        ArtifactRouter as ArtifactRouter,
    )
    from chapkit.api import (
        AssessedStatus as AssessedStatus,
    )
    from chapkit.api import (
        BaseServiceBuilder as BaseServiceBuilder,
    )
    from chapkit.api import (
        CheckResult as CheckResult,
    )
    from chapkit.api import (
        ConfigRouter as ConfigRouter,
    )
    from chapkit.api import (
        CrudPermissions as CrudPermissions,
    )
    from chapkit.api import (
        CrudRouter as CrudRouter,
    )
    from chapkit.api import (
        FunctionalModelRunner as FunctionalModelRunner,
    )
    from chapkit.api import (
        HealthCheck as HealthCheck,
    )
    from chapkit.api import (
        HealthRouter as HealthRouter,
    )
    from chapkit.api import (
        HealthState as HealthState,
    )
    from chapkit.api import (
        HealthStatus as HealthStatus,
    )
    from chapkit.api import (
        JobRouter as JobRouter,
    )
    from chapkit.api import (
        MetricsRouter as MetricsRouter,
    )
    from chapkit.api import (
        MLProject as MLProject,
    )
    from chapkit.api import (
        MLProjectError as MLProjectError,
    )
    from chapkit.api import (
        MLRouter as MLRouter,
    )
    from chapkit.api import (
        MLServiceBuilder as MLServiceBuilder,
    )
    from chapkit.api import (
        MLServiceInfo as MLServiceInfo,
    )
    from chapkit.api import (
        ModelMetadata as ModelMetadata,
    )
    from chapkit.api import (
        ModelWorkspace as ModelWorkspace,
    )
    from chapkit.api import (
        PaginationParams as PaginationParams,
    )
    from chapkit.api import (
        RequestLoggingMiddleware as RequestLoggingMiddleware,
    )
    from chapkit.api import (
        Router as Router,
    )
    from chapkit.api import (
        ServiceBuilder as ServiceBuilder,
    )
    from chapkit.api import (
        ServiceInfo as ServiceInfo,
    )
    from chapkit.api import (
        ShellModelRunner as ShellModelRunner,
    )
    from chapkit.api import (
        SystemInfo as SystemInfo,
    )
    from chapkit.api import (
        SystemRouter as SystemRouter,
    )
    from chapkit.api import (
        TaskRouter as TaskRouter,
    )
    from chapkit.api import (
        TrainResult as TrainResult,
    )
    from chapkit.api import (
        add_error_handlers as add_error_handlers,
    )
    from chapkit.api import (
        add_logging_middleware as add_logging_middleware,
    )
    from chapkit.api import (
        add_request_context as add_request_context,
    )
    from chapkit.api import (
        build_location_url as build_location_url,
    )
    from chapkit.api import (
        chapkit_exception_handler as chapkit_exception_handler,
    )
    from chapkit.api import (
        clear_request_context as clear_request_context,
    )
    from chapkit.api import (
        configure_logging as configure_logging,
    )
    from chapkit.api import (
        create_paginated_response as create_paginated_response,
    )
    from chapkit.api import (
        database_error_handler as database_error_handler,
    )
    from chapkit.api import (
        get_app_manager as get_app_manager,
    )
    from chapkit.api import (
        get_artifact_manager as get_artifact_manager,
    )
    from chapkit.api import (
        get_config_manager as get_config_manager,
    )
    from chapkit.api import (
        get_database as get_database,
    )
    from chapkit.api import (
        get_logger as get_logger,
    )
    from chapkit.api import (
        get_ml_manager as get_ml_manager,
    )
    from chapkit.api import (
        get_scheduler as get_scheduler,
    )
    from chapkit.api import (
        get_session as get_session,
    )
    from chapkit.api import (
        get_task_manager as get_task_manager,
    )
    from chapkit.api import (
        load_mlproject as load_mlproject,
    )
    from chapkit.api import (
        mlproject_app as mlproject_app,
    )
    from chapkit.api import (
        mlproject_builder as mlproject_builder,
    )
    from chapkit.api import (
        reset_request_context as reset_request_context,
    )
    from chapkit.api import (
        run_app as run_app,
    )
    from chapkit.api import (
        set_app_manager as set_app_manager,
    )
    from chapkit.api import (
        set_database as set_database,
    )
    from chapkit.api import (
        set_scheduler as set_scheduler,
    )
    from chapkit.api import (
        validation_error_handler as validation_error_handler,
    )
    from chapkit.application.artifact_manager import ArtifactManager
    from chapkit.application.config_manager import ConfigManager
    from chapkit.application.manager import BaseManager, LifecycleHooks, Manager
    from chapkit.application.ml_manager import MLManager
    from chapkit.application.services import JobFailedError
    from chapkit.application.task_manager import TaskManager
    from chapkit.application.task_registry import TaskRegistry
    from chapkit.bootstrap.containers import ServiceContainer, create_container
    from chapkit.bootstrap.dependencies import manager_dependency
    from chapkit.bootstrap.service_builder import validate_and_disable_orphaned_tasks
    from chapkit.domain.artifact import (
        Artifact,
        ArtifactHierarchy,
        ArtifactIn,
        ArtifactOut,
        ArtifactTreeNode,
    )
    from chapkit.domain.artifact_tree import ArtifactTreeError
    from chapkit.domain.config import (
        ArtifactLinkError,
        BaseConfig,
        Config,
        ConfigArtifact,
        ConfigIn,
        ConfigOut,
        LinkArtifactRequest,
        UnlinkArtifactRequest,
    )
    from chapkit.domain.dataframes import PandasDataFrame
    from chapkit.domain.errors import (
        BadRequestError,
        ChapkitException,
        ConflictError,
        ErrorType,
        ForbiddenError,
        InvalidULIDError,
        JobNotFoundError,
        NotFoundError,
        UnauthorizedError,
        ValidationError,
    )
    from chapkit.domain.forecasts import ForecastError
    from chapkit.domain.job_states import InvalidJobTransitionError
    from chapkit.domain.jobs import JobRecord, JobStatus
    from chapkit.domain.json_safe import JsonSafe
    from chapkit.domain.ml import (
        BaseModelRunner,
        ModelRunnerProtocol,
        PredictionArtifactData,
        PredictRequest,
        PredictResponse,
        RunInfo,
        TrainedModelArtifactData,
        TrainRequest,
        TrainResponse,
    )
    from chapkit.domain.ml_artifacts import ModelRunFailedError, prediction_frame
    from chapkit.domain.ml_checks import (
        MLRequestError,
        ModelRequirements,
        PeriodType,
        ValidationDiagnostic,
        ValidationResponse,
    )
    from chapkit.domain.ports import (
        ArtifactStore,
        ConfigStore,
        Datastore,
        JobRecordStore,
        JobScheduler,
        Repository,
        TaskStore,
    )
    from chapkit.domain.ports import ArtifactStore as ArtifactRepositoryPort  # noqa: F401 (an old name)
    from chapkit.domain.ports import ConfigStore as ConfigRepositoryPort  # noqa: F401 (an old name)
    from chapkit.domain.schemas import (
        BulkOperationError,
        BulkOperationResult,
        EntityIn,
        EntityOut,
        PaginatedResponse,
        ProblemDetail,
    )
    from chapkit.domain.task import Task, TaskExecuteResponse, TaskIn, TaskOut
    from chapkit.embedding import ChapkitService, Storage, SyncChapkitService, open_storage
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__version__ = "0.1.0"


# The service-building names come from `chapkit.api` (one list); these are the rest of the reference.
__all__ = [
    *_service_building_names,
    "ChapkitService",
    "JobFailedError",
    "SyncChapkitService",
    "Artifact",
    "ArtifactHierarchy",
    "ArtifactIn",
    "ArtifactOut",
    "ArtifactTreeNode",
    "PandasDataFrame",
    "ArtifactTreeError",
    "ArtifactLinkError",
    "BaseConfig",
    "Config",
    "ConfigArtifact",
    "ConfigIn",
    "ConfigOut",
    "LinkArtifactRequest",
    "UnlinkArtifactRequest",
    "ArtifactManager",
    "ConfigManager",
    "ArtifactRepository",
    "ConfigRepository",
    "InMemoryArtifactStore",
    "InMemoryConfigStore",
    "ArtifactStore",
    "ConfigStore",
    "AIOJobScheduler",
    "BadRequestError",
    "Base",
    "BaseManager",
    "BaseRepository",
    "BulkOperationError",
    "BulkOperationResult",
    "ChapkitException",
    "ConflictError",
    "Database",
    "Datastore",
    "Entity",
    "EntityIn",
    "EntityOut",
    "ErrorType",
    "ForbiddenError",
    "InMemoryDatastore",
    "InMemoryJobRecordStore",
    "InMemoryRepository",
    "InvalidJobTransitionError",
    "InvalidULIDError",
    "JobRecord",
    "JobRecordStore",
    "JobScheduler",
    "JobStatus",
    "JsonSafe",
    "LifecycleHooks",
    "Manager",
    "JobNotFoundError",
    "NotFoundError",
    "PaginatedResponse",
    "ProblemDetail",
    "Repository",
    "ServiceContainer",
    "SqlJobRecordStore",
    "SqliteDatabase",
    "SqliteDatabaseBuilder",
    "Storage",
    "ULIDType",
    "UnauthorizedError",
    "ValidationError",
    "__version__",
    "create_container",
    "open_storage",
    "Task",
    "TaskExecuteResponse",
    "TaskIn",
    "TaskOut",
    "InMemoryTaskStore",
    "TaskManager",
    "TaskRegistry",
    "TaskRepository",
    "TaskStore",
    "manager_dependency",
    "validate_and_disable_orphaned_tasks",
    "BaseModelRunner",
    "MLManager",
    "MLRequestError",
    "ModelRequirements",
    "ModelRunnerProtocol",
    "PeriodType",
    "PredictRequest",
    "PredictResponse",
    "PredictionArtifactData",
    "TrainRequest",
    "TrainResponse",
    "RunInfo",
    "ForecastError",
    "ModelRunFailedError",
    "prediction_frame",
    "TrainedModelArtifactData",
    "ValidationDiagnostic",
    "ValidationResponse",
]
