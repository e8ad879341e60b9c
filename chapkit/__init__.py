"""chapkit: build ML model services with typed configs, artifacts, jobs and train/predict workflows.

Every public name of the reference is importable from here (D1); service-building names are also in
`chapkit.api`.
"""

from chapkit.adapters.memory import (
    InMemoryArtifactRepository,
    InMemoryConfigRepository,
    InMemoryDatabase,
    InMemoryRepository,
)
from chapkit.adapters.observability import (
    add_request_context,
    clear_request_context,
    configure_logging,
    get_logger,
    reset_request_context,
)
from chapkit.adapters.sql import (
    ArtifactRepository,
    Base,
    BaseRepository,
    ConfigRepository,
    Database,
    Entity,
    SqliteDatabase,
    SqliteDatabaseBuilder,
    ULIDType,
)
from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.application.manager import BaseManager, LifecycleHooks, Manager
from chapkit.bootstrap import ServiceContainer, Storage, create_container, open_storage
from chapkit.domain.artifact import (
    Artifact,
    ArtifactHierarchy,
    ArtifactIn,
    ArtifactOut,
    ArtifactTreeNode,
    PandasDataFrame,
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
from chapkit.domain.errors import (
    BadRequestError,
    ChapkitException,
    ConflictError,
    ErrorType,
    ForbiddenError,
    InvalidULIDError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)
from chapkit.domain.jobs import JobRecord, JobStatus
from chapkit.domain.json_safe import JsonSafe
from chapkit.domain.ports import ArtifactRepositoryPort, ConfigRepositoryPort, Datastore, Repository
from chapkit.domain.schemas import (
    BulkOperationError,
    BulkOperationResult,
    EntityIn,
    EntityOut,
    PaginatedResponse,
    ProblemDetail,
)

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "ArtifactHierarchy",
    "ArtifactIn",
    "ArtifactLinkError",
    "ArtifactManager",
    "ArtifactOut",
    "ArtifactRepository",
    "ArtifactRepositoryPort",
    "ArtifactTreeError",
    "ArtifactTreeNode",
    "BadRequestError",
    "Base",
    "BaseConfig",
    "BaseManager",
    "BaseRepository",
    "BulkOperationError",
    "BulkOperationResult",
    "ChapkitException",
    "Config",
    "ConfigArtifact",
    "ConfigIn",
    "ConfigManager",
    "ConfigOut",
    "ConfigRepository",
    "ConfigRepositoryPort",
    "ConflictError",
    "Database",
    "Datastore",
    "Entity",
    "EntityIn",
    "EntityOut",
    "ErrorType",
    "ForbiddenError",
    "InMemoryArtifactRepository",
    "InMemoryConfigRepository",
    "InMemoryDatabase",
    "InMemoryRepository",
    "InvalidULIDError",
    "JobRecord",
    "JobStatus",
    "JsonSafe",
    "LifecycleHooks",
    "LinkArtifactRequest",
    "Manager",
    "NotFoundError",
    "PaginatedResponse",
    "PandasDataFrame",
    "ProblemDetail",
    "Repository",
    "ServiceContainer",
    "SqliteDatabase",
    "SqliteDatabaseBuilder",
    "Storage",
    "ULIDType",
    "UnauthorizedError",
    "UnlinkArtifactRequest",
    "ValidationError",
    "add_request_context",
    "clear_request_context",
    "configure_logging",
    "create_container",
    "get_logger",
    "open_storage",
    "reset_request_context",
    "__version__",
]
