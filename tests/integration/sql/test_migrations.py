"""The bundled migrations build exactly chapkit's tables as the metadata declares them, and undo them (D12)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chapkit.adapters.sql.migrations.runner import alembic_config, downgrade_to
from chapkit.adapters.sql.schema import chapkit_table_names
from chapkit.adapters.sql.schema.base import Base
from tests.conftest import POSTGRES_URL_ENV

EXPECTED_TABLES = {"configs", "artifacts", "config_artifacts", "job_records", "job_owners", "tasks"}


@pytest.fixture(params=["sqlite_file", "postgres"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite_file":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"PostgreSQL cases need {POSTGRES_URL_ENV}")
    url = make_url(base_url)
    name = f"chapkit_migrations_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _upgrade_only(connection: Connection, config: AlembicConfig) -> None:
    """Run the bundled migrations alone (no create_all afterwards), so missing tables would show."""
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _differences(connection: Connection) -> list[Any]:
    own = chapkit_table_names()

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in own

    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_object": include_object},
    )
    return list(compare_metadata(context, Base.metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _migrate(engine: AsyncEngine, url: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_only, alembic_config(url))


async def test_chapkit_owns_the_job_config_and_artifact_tables() -> None:
    assert chapkit_table_names() >= EXPECTED_TABLES


async def test_upgrade_to_head_equals_the_metadata_and_downgrade_removes_everything(empty_url: str) -> None:
    engine = create_async_engine(empty_url)
    try:
        await _migrate(engine, empty_url)
        async with engine.connect() as connection:
            assert chapkit_table_names() <= await connection.run_sync(_table_names)
            assert await connection.run_sync(_differences) == []

        await downgrade_to(engine, empty_url, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_table_names) & chapkit_table_names() == set()

        await _migrate(engine, empty_url)  # and back up again from base
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()
