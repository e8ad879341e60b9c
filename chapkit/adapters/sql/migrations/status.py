"""Schema commands for the bundled migrations on a database URL (`chapkit db upgrade|current`)."""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from chapkit.adapters.sql.migrations.runner import alembic_config, upgrade_to_head


@dataclass(frozen=True)
class SchemaRevision:
    """A database's chapkit schema revision (None before any migration) and the newest bundled one."""

    current: str | None
    head: str | None

    @property
    def up_to_date(self) -> bool:
        """Whether the database is at the newest bundled revision."""
        return self.current == self.head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def schema_revision(url: str) -> SchemaRevision:
    """Read the schema revision of the database at `url` (nothing is changed)."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current)
    finally:
        await engine.dispose()
    return SchemaRevision(current=current, head=head)


async def upgrade_schema(url: str) -> SchemaRevision:
    """Upgrade the database at `url` to the newest bundled revision and return its revision after."""
    engine = create_async_engine(url)
    try:
        await upgrade_to_head(engine, url)
    finally:
        await engine.dispose()
    return await schema_revision(url)


__all__ = ["SchemaRevision", "schema_revision", "upgrade_schema"]
