"""`chapkit db upgrade|current`: the bundled migrations on a database URL."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer

from chapkit.cli.client import AsJson, console, fail

if TYPE_CHECKING:  # the service stack loads only when a command runs
    from chapkit.adapters.sql.migrations.status import SchemaRevision

db = typer.Typer(help="The database schema (the bundled migrations).", no_args_is_help=True)

Database = Annotated[
    str,
    typer.Option(
        "--database",
        envvar=["CHAPKIT_DATABASE_URL", "DATABASE_URL"],
        help="Database URL, e.g. sqlite+aiosqlite:///service.db or postgresql+asyncpg://user@host/db.",
    ),
]


def _report(action: str, revision: SchemaRevision, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"current": revision.current, "head": revision.head, "up_to_date": revision.up_to_date}))
        return
    state = "up to date" if revision.up_to_date else f"behind (newest is {revision.head})"
    console.print(f"{action}: {revision.current or 'no chapkit schema'} ({state})", highlight=False)


@db.command("upgrade")
def upgrade(database: Database, as_json: AsJson = False) -> None:
    """Upgrade the database to the newest bundled revision (creates the file for SQLite)."""
    from chapkit.adapters.sql.migrations.status import upgrade_schema

    try:
        revision = asyncio.run(upgrade_schema(database))
    except Exception as exc:  # any driver or URL error becomes one line for people, not a traceback
        raise fail(f"cannot upgrade {database}: {exc}") from exc
    _report("upgraded to", revision, as_json)


@db.command("current")
def current(database: Database, as_json: AsJson = False) -> None:
    """Show the database's schema revision and whether it is the newest bundled one."""
    from chapkit.adapters.sql.migrations.status import schema_revision

    try:
        revision = asyncio.run(schema_revision(database))
    except Exception as exc:  # as above
        raise fail(f"cannot read {database}: {exc}") from exc
    _report("current", revision, as_json)


__all__ = ["db"]
