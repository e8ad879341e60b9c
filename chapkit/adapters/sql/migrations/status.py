"""Schema commands for the bundled migrations on a database URL (`chapkit db upgrade|current`).

Both take the URLs a service takes: plain `sqlite://` and `postgresql://` get their async driver, and a
driver that is not installed raises `MissingExtraError` naming the extra.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection

from chapkit.adapters.sql.database import async_engine, async_url, sqlite_file
from chapkit.adapters.sql.migrations.runner import alembic_config, upgrade_to_head


@dataclass(frozen=True)
class SchemaRevision:
    """A database's chapkit schema revision (None before any migration) and the newest bundled one."""

    current: str | None
    head: str | None
    known: bool = True
    """Whether `current` is one of the bundled revisions (not one written by a newer chapkit)."""

    @property
    def up_to_date(self) -> bool:
        """Whether the database is at the newest bundled revision."""
        return self.current == self.head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _is_bundled(script: ScriptDirectory, revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


async def schema_revision(url: str) -> SchemaRevision:
    """Read the schema revision of the database at `url`; nothing is changed or created.

    `FileNotFoundError` for an SQLite file that does not exist (connecting would create it).
    """
    url = async_url(url)
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"no database file {path} (chapkit db upgrade creates it)")
    script = ScriptDirectory.from_config(alembic_config(url))
    engine = async_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current)
    finally:
        await engine.dispose()
    return SchemaRevision(current=current, head=script.get_current_head(), known=_is_bundled(script, current))


async def upgrade_schema(url: str) -> SchemaRevision:
    """Upgrade the database at `url` to the newest bundled revision (an SQLite file is created) and return it."""
    url = async_url(url)
    engine = async_engine(url)
    try:
        await upgrade_to_head(engine, url)
    finally:
        await engine.dispose()
    return await schema_revision(url)


__all__ = ["SchemaRevision", "schema_revision", "upgrade_schema"]
