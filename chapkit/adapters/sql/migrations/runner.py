"""Run the bundled Alembic migrations (or a user's `alembic_dir`) against an async engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chapkit.adapters.sql.schema import load_chapkit_tables
from chapkit.adapters.sql.schema.base import Base

BUNDLED_MIGRATIONS = Path(__file__).parent
_MIGRATION_LOCK_KEY = 0x63686170  # "chap": one advisory lock for every chapkit schema upgrade


def alembic_config(url: str, script_location: Path = BUNDLED_MIGRATIONS) -> Config:
    """Return an Alembic configuration for `url` and a script directory (the bundled one by default)."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def create_tables(engine: AsyncEngine) -> None:
    """Create every table of `Base.metadata` that does not exist yet (no migrations)."""
    load_chapkit_tables()
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


async def upgrade_to_head(engine: AsyncEngine, url: str, alembic_dir: Path | None = None) -> None:
    """Upgrade the schema to the newest revision, holding a lock so concurrent starts do not collide.

    With the bundled migrations, tables of users' own models that no migration created are then
    created too (D12); a user's `alembic_dir` owns the whole schema, so nothing else is created.
    """
    if alembic_dir is not None:
        await asyncio.to_thread(command.upgrade, alembic_config(url, alembic_dir), "head")
        return
    load_chapkit_tables()
    async with engine.begin() as connection:
        await _lock_schema(connection)
        await connection.run_sync(_upgrade, alembic_config(url))
        await connection.run_sync(Base.metadata.create_all)


async def downgrade_to(engine: AsyncEngine, url: str, revision: str) -> None:
    """Downgrade the bundled schema to `revision` ("base" removes every chapkit table)."""
    async with engine.begin() as connection:
        await _lock_schema(connection)
        await connection.run_sync(_downgrade, alembic_config(url), revision)


async def _lock_schema(connection: AsyncConnection) -> None:
    """Serialize schema changes between processes: an advisory lock on PostgreSQL, the write lock on SQLite."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
    elif dialect == "sqlite":
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _downgrade(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


__all__ = ["BUNDLED_MIGRATIONS", "alembic_config", "create_tables", "downgrade_to", "upgrade_to_head"]
