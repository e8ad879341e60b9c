"""Fixtures of the SQL integration tests: a migrated, emptied storage on an SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from chapkit.embedding import Storage, open_storage
from tests.conftest import truncate


@pytest.fixture(params=["sqlite_file", "postgres"])
async def sql_storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    url = request.getfixturevalue("sqlite_file_url" if request.param == "sqlite_file" else "postgres_url")
    async with open_storage(url) as opened:
        await truncate(opened.database)
        yield opened


def sync_engines(storage: Storage, *, writer: bool = True) -> list[Any]:
    """The storage's engines (sync side, for event listeners); with `writer`, an SQLite file's writer engine too."""
    database: Any = storage.database
    engines = [database.engine.sync_engine]
    turn = getattr(database, "_turn", None)
    if writer and turn is not None and turn.engine is not None:
        engines.append(turn.engine.sync_engine)
    return engines
