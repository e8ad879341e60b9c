"""The bundled migrations build exactly the ORM metadata (chapkit's tables), and downgrade cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from chapkit.adapters.sql import create_database
from chapkit.adapters.sql.migrations.runner import downgrade_to
from chapkit.adapters.sql.models import Base
from chapkit.adapters.sql.schema import chapkit_table_names


def _differences(connection: Connection) -> list[Any]:
    own = chapkit_table_names()
    context = MigrationContext.configure(
        connection,
        opts={
            "include_name": lambda name, type_, _parents: type_ != "table" or name in own,
            "include_object": lambda obj, name, type_, _reflected, _other: type_ != "table" or name in own,
            "compare_type": True,
        },
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.fixture(params=["sqlite_file", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite_file":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_upgrade_to_head_matches_metadata_and_downgrade_removes_it(empty_database_url: str) -> None:
    database = create_database(empty_database_url)
    try:
        await database.init()
        async with database.engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            tables = await connection.run_sync(_tables)
        assert chapkit_table_names() <= tables
        assert "alembic_version" in tables

        await downgrade_to(database.engine, empty_database_url, "base")
        async with database.engine.connect() as connection:
            remaining = await connection.run_sync(_tables)
        assert not (chapkit_table_names() & remaining)

        await database.init()  # and back up again
        async with database.engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await database.dispose()


async def test_init_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'twice.db'}"
    for _ in range(2):
        database = create_database(url)
        await database.init()
        await database.dispose()
