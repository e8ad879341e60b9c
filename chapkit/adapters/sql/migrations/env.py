"""Alembic environment for chapkit's bundled migrations.

chapkit runs these migrations on its own connection (`config.attributes["connection"]`); the URL path
below serves developers who run Alembic by hand to write a new revision.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from chapkit.adapters.sql.schema import chapkit_table_names
from chapkit.adapters.sql.schema.base import Base

config = context.config
target_metadata = Base.metadata
OWN_TABLES = chapkit_table_names()


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Compare and migrate chapkit's own tables only; users' tables are theirs (D12)."""
    return type_ != "table" or name in OWN_TABLES


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """The same filter for the metadata side of a comparison."""
    return type_ != "table" or name in OWN_TABLES


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_url() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("chapkit migrations run online only")
elif (connection := config.attributes.get("connection")) is not None:
    run_on(connection)
else:
    asyncio.run(run_with_url())
