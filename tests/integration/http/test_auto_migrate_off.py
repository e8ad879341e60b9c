"""`SqliteDatabase(url, auto_migrate=False)` / `Database(url, auto_migrate=False)`: the tables come from the
metadata (no migrations), and a service starts on a new database and again on the same one, with jobs or without."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chapkit import BaseConfig, Database, ServiceBuilder, ServiceInfo, SqliteDatabase
from tests.conftest import fresh_postgres_database
from tests.integration.http.conftest import serve


@pytest.fixture(params=["sqlite_file", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite_file":
        yield f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}"
    else:
        with fresh_postgres_database() as postgres_url:
            yield postgres_url


@pytest.mark.parametrize("jobs", [True, False], ids=["with jobs", "without jobs"])
async def test_a_service_starts_twice_on_a_database_without_migrations(url: str, jobs: bool) -> None:
    for start in range(2):
        database = (
            SqliteDatabase(url, auto_migrate=False) if url.startswith("sqlite") else Database(url, auto_migrate=False)
        )
        builder = ServiceBuilder(info=ServiceInfo(display_name="unmigrated")).with_database(database)
        builder = builder.with_health().with_config(BaseConfig)
        if jobs:
            builder = builder.with_jobs()
        async with serve(builder.build()) as client:
            assert (await client.get("/health")).json()["status"] == "healthy"
            created = await client.post("/api/v1/configs", json={"name": f"start {start}", "data": {}})
            assert created.status_code == 201
            assert len((await client.get("/api/v1/configs")).json()) == start + 1
            if jobs:
                assert (await client.get("/api/v1/jobs")).status_code == 200
        await database.dispose()
