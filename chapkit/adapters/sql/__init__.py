"""SQL storage through SQLAlchemy's async engine: SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from chapkit.adapters.sql.database import Database, SqliteDatabase, SqliteDatabaseBuilder, create_database
from chapkit.adapters.sql.job_store import SqlJobRecordStore
from chapkit.adapters.sql.models import Base, Entity
from chapkit.adapters.sql.repository import BaseRepository
from chapkit.adapters.sql.types import ULIDType

__all__ = [
    "Base",
    "BaseRepository",
    "Database",
    "Entity",
    "SqlJobRecordStore",
    "SqliteDatabase",
    "SqliteDatabaseBuilder",
    "ULIDType",
    "create_database",
]
