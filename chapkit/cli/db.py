"""`chapkit db upgrade|current`: the bundled migrations on a database URL.

Exit codes: 0 when the schema is up to date, 1 when `current` finds it missing or behind, 2 on an error
(a bad URL, a database that cannot be reached, a driver that is not installed).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer

from chapkit.cli.client import AsJson, console, fail
from chapkit.cli.groups import Group

if TYPE_CHECKING:  # the service stack loads only when a command runs
    from chapkit.adapters.sql.migrations.status import SchemaRevision

db = typer.Typer(
    cls=Group,
    help="The database schema (the bundled migrations). Exit codes: 0 up to date, 1 missing or behind, 2 error.",
    no_args_is_help=True,
)

Database = Annotated[
    str,
    typer.Option(
        "--database",
        envvar=["CHAPKIT_DATABASE_URL", "DATABASE_URL"],
        help=(
            "Database URL, as serve takes it: sqlite:///service.db, postgresql://user@host/db "
            "(or with their drivers, sqlite+aiosqlite://, postgresql+asyncpg://)."
        ),
    ),
]


def _shown(url: str) -> str:
    """`url` without its password, for messages."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _reason(exc: Exception) -> str:
    """The error's message without SQLAlchemy's "Background on this error" link line."""
    return " ".join(line for line in str(exc).splitlines() if not line.startswith("(Background on this error"))


def _state(revision: SchemaRevision) -> str:
    if revision.up_to_date:
        return "up to date"
    if revision.current is None:
        return f"no chapkit schema (newest is {revision.head}: run chapkit db upgrade)"
    if not revision.known:
        return f"not a bundled revision (newest bundled is {revision.head}: written by a newer chapkit?)"
    return f"behind (newest is {revision.head}: run chapkit db upgrade)"


def _report(action: str, revision: SchemaRevision, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"current": revision.current, "head": revision.head, "up_to_date": revision.up_to_date}))
        return
    if revision.up_to_date:
        console.print(f"{action}: {revision.current} (up to date)", highlight=False)
    else:
        console.print(f"{action}: {revision.current or 'none'}, {_state(revision)}", highlight=False)


@db.command("upgrade")
def upgrade(database: Database, as_json: AsJson = False) -> None:
    """Upgrade the database to the newest bundled revision (creates the file for SQLite); exit 2 on an error."""
    from chapkit.adapters.sql.migrations.status import upgrade_schema

    try:
        revision = asyncio.run(upgrade_schema(database))
    except Exception as exc:  # any driver or URL error becomes one line for people, not a traceback
        raise fail(f"cannot upgrade {_shown(database)}: {_reason(exc)}", 2) from exc
    _report("upgraded to", revision, as_json)


@db.command("current")
def current(database: Database, as_json: AsJson = False) -> None:
    """Show the schema revision; exit 0 when up to date, 1 when missing or behind, 2 on an error (creates nothing)."""
    from chapkit.adapters.sql.migrations.status import schema_revision

    try:
        revision = asyncio.run(schema_revision(database))
    except Exception as exc:  # as above
        raise fail(f"cannot read {_shown(database)}: {_reason(exc)}", 2) from exc
    _report("current", revision, as_json)
    if not revision.up_to_date:
        raise typer.Exit(1)


__all__ = ["db"]
