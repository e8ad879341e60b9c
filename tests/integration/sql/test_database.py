"""SQLite and PostgreSQL specifics of the SQL adapter: pragmas, builder, URLs, migrations options."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from chapkit import ValidationError
from chapkit.adapters.sql import Database, SqliteDatabase, SqliteDatabaseBuilder, create_database
from chapkit.adapters.sql.repository import BaseRepository
from tests.support.models import Widget


async def _pragma(database: Database, name: str) -> object:
    async with database.engine.connect() as connection:
        return (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()


async def _table_names(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_sqlite_file_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    database = SqliteDatabaseBuilder.from_file(tmp_path / "app.db").build()
    await database.init()
    try:
        assert await _pragma(database, "journal_mode") == "wal"
        assert await _pragma(database, "foreign_keys") == 1
        assert await _pragma(database, "busy_timeout") == 30_000
        assert not database.is_in_memory()
    finally:
        await database.dispose()


async def test_sqlite_in_memory_is_one_database_for_every_session() -> None:
    database = SqliteDatabaseBuilder.in_memory().build()
    assert database.is_in_memory()
    await database.init()
    try:
        async with database.session() as session:
            repo: BaseRepository[Widget] = BaseRepository(session, Widget)
            await repo.save(Widget(name="shared"))
            await repo.commit()
        async with database.session() as session:
            assert [w.name for w in await BaseRepository(session, Widget).find_all()] == ["shared"]
    finally:
        await database.dispose()


def test_builder_without_url_names_the_fix() -> None:
    with pytest.raises(ValueError, match=r"^Database URL not configured\. Use \.in_memory\(\) or \.from_file\(\)$"):
        SqliteDatabaseBuilder().build()


async def test_builder_options_reach_the_database(tmp_path: Path) -> None:
    database = (
        SqliteDatabaseBuilder.from_file(str(tmp_path / "b.db"))
        .with_echo()
        .with_pool(size=3, max_overflow=1, recycle=60, pre_ping=False)
        .with_migrations(enabled=False)
        .build()
    )
    try:
        assert database.url == f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
        assert database.engine.echo is True
        assert database.engine.pool.size() == 3  # type: ignore[attr-defined]
        assert database.auto_migrate is False
        await database.init()
        tables = await _table_names(database)
        assert "test_widgets" in tables and "alembic_version" not in tables
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("url", "expected_type", "driver"),
    [
        ("sqlite:///:memory:", SqliteDatabase, "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///:memory:", SqliteDatabase, "sqlite+aiosqlite"),
        ("postgresql://postgres@127.0.0.1/test", Database, "postgresql+asyncpg"),
        ("postgres://postgres@127.0.0.1/test", Database, "postgresql+asyncpg"),
    ],
)
async def test_create_database_picks_class_and_async_driver(url: str, expected_type: type, driver: str) -> None:
    database = create_database(url)
    try:
        assert type(database) is expected_type
        assert database.engine.url.drivername == driver
    finally:
        await database.dispose()


async def test_users_tables_are_created_after_the_bundled_migrations(tmp_path: Path) -> None:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")
    await database.init()
    try:
        assert {"test_widgets", "alembic_version"} <= await _table_names(database)
    finally:
        await database.dispose()


async def test_custom_alembic_dir_owns_the_schema(tmp_path: Path) -> None:
    scripts = tmp_path / "alembic"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(
        textwrap.dedent(
            """
            import asyncio
            from alembic import context
            from sqlalchemy.ext.asyncio import create_async_engine

            def run(connection):
                context.configure(connection=connection)
                with context.begin_transaction():
                    context.run_migrations()

            async def main():
                engine = create_async_engine(context.config.get_main_option("sqlalchemy.url"))
                async with engine.begin() as connection:
                    await connection.run_sync(run)
                await engine.dispose()

            asyncio.run(main())
            """
        )
    )
    (scripts / "versions" / "a1_things.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "a1"
            down_revision = None

            def upgrade():
                op.create_table("custom_things", sa.Column("id", sa.Integer, primary_key=True))

            def downgrade():
                op.drop_table("custom_things")
            """
        )
    )
    database = SqliteDatabaseBuilder.from_file(tmp_path / "c.db").with_migrations(True, scripts).build()
    await database.init()
    try:
        tables = await _table_names(database)
        assert "custom_things" in tables
        assert "test_widgets" not in tables  # a custom alembic_dir owns the whole schema (D12)
    finally:
        await database.dispose()


async def test_concurrent_starts_on_one_new_file_do_not_collide(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'race.db'}"
    databases = [create_database(url) for _ in range(3)]
    try:
        await asyncio.gather(*(d.init() for d in databases))
        assert "test_widgets" in await _table_names(databases[0])
    finally:
        for database in databases:
            await database.dispose()


async def test_missing_required_value_is_a_validation_error(tmp_path: Path) -> None:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path / 'n.db'}")
    await database.init()
    try:
        async with database.session() as session:
            repo: BaseRepository[Widget] = BaseRepository(session, Widget)
            await repo.save(Widget(name=None))
            with pytest.raises(ValidationError, match="required value"):
                await repo.commit()
            assert await repo.count() == 0  # the failed commit was rolled back; the session is usable
    finally:
        await database.dispose()


async def test_ping_answers_and_fails_for_an_unreachable_server(tmp_path: Path) -> None:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    await database.ping()
    await database.dispose()
    unreachable = create_database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with pytest.raises(OSError):
        await unreachable.ping()
    await unreachable.dispose()


async def test_postgres_database_round_trip(postgres_url: str) -> None:
    database = create_database(postgres_url)
    await database.init()
    try:
        await database.ping()
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await database.dispose()
