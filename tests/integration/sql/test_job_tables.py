"""Migration 0002 creates the job tables chapkit owns; downgrading to 0001 removes them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect

from chapkit.adapters.sql import create_database
from chapkit.adapters.sql.migrations.runner import downgrade_to
from chapkit.adapters.sql.schema import chapkit_table_names

JOB_TABLES = {"job_records", "job_owners"}


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _indexes(connection: Connection) -> set[str]:
    return {index["name"] or "" for index in inspect(connection).get_indexes("job_records")}


async def test_job_tables_are_chapkit_tables_created_by_0002_and_removed_by_its_downgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    assert chapkit_table_names() >= JOB_TABLES
    database = create_database(url)
    try:
        await database.init()
        async with database.engine.connect() as connection:
            assert await connection.run_sync(_tables) >= JOB_TABLES
            assert {"ix_job_records_submitted_at", "ix_job_records_owner_status"} <= await connection.run_sync(_indexes)
        await downgrade_to(database.engine, url, "0001")
        async with database.engine.connect() as connection:
            assert not (JOB_TABLES & await connection.run_sync(_tables))
    finally:
        await database.dispose()
