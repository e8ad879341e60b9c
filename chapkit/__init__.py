"""chapkit: build ML model services with typed configs, artifacts, jobs and train/predict workflows.

Every public name of the reference is importable from here (D1); service-building names are also in
`chapkit.api`.
"""

from chapkit.adapters.memory import InMemoryDatabase, InMemoryRepository
from chapkit.adapters.observability import (
    add_request_context,
    clear_request_context,
    configure_logging,
    get_logger,
    reset_request_context,
)
from chapkit.adapters.sql import (
    Base,
    BaseRepository,
    Database,
    Entity,
    SqliteDatabase,
    SqliteDatabaseBuilder,
    ULIDType,
)
from chapkit.application.manager import BaseManager, LifecycleHooks, Manager
from chapkit.bootstrap import ServiceContainer, Storage, create_container, open_storage
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
from chapkit.domain.ports import Datastore, Repository
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
    "InMemoryDatabase",
    "InMemoryRepository",
    "InvalidULIDError",
    "JobRecord",
    "JobStatus",
    "JsonSafe",
    "LifecycleHooks",
    "Manager",
    "NotFoundError",
    "PaginatedResponse",
    "ProblemDetail",
    "Repository",
    "ServiceContainer",
    "SqliteDatabase",
    "SqliteDatabaseBuilder",
    "Storage",
    "ULIDType",
    "UnauthorizedError",
    "ValidationError",
    "__version__",
    "add_request_context",
    "clear_request_context",
    "configure_logging",
    "create_container",
    "get_logger",
    "open_storage",
    "reset_request_context",
]
