"""SQL storage through SQLAlchemy's async engine: SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from chapkit.adapters.sql.artifact_repository import ArtifactRepository
from chapkit.adapters.sql.config_repository import ConfigRepository
from chapkit.adapters.sql.database import Database, SqliteDatabase, SqliteDatabaseBuilder, create_database
from chapkit.adapters.sql.job_store import SqlJobRecordStore
from chapkit.adapters.sql.owner_lock import FileOwnerLock, PostgresOwnerLock, owner_lock_for
from chapkit.adapters.sql.repository import BaseRepository
from chapkit.adapters.sql.schema.base import Base, Entity
from chapkit.adapters.sql.task_repository import TaskRepository
from chapkit.adapters.sql.types import ULIDType
from chapkit.adapters.sql.unit_of_work import SqlUnitOfWork

__all__ = [
    "ArtifactRepository",
    "Base",
    "BaseRepository",
    "ConfigRepository",
    "Database",
    "Entity",
    "FileOwnerLock",
    "PostgresOwnerLock",
    "SqlJobRecordStore",
    "SqlUnitOfWork",
    "SqliteDatabase",
    "SqliteDatabaseBuilder",
    "TaskRepository",
    "ULIDType",
    "create_database",
    "owner_lock_for",
]
