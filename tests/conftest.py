"""Fixtures shared by every tier: storage backends, with PostgreSQL when CHAPKIT_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from chapkit import Datastore
from chapkit.adapters.sql.schema.base import Base
from chapkit.embedding import Storage, open_storage

POSTGRES_URL_ENV = "CHAPKIT_TEST_POSTGRES_URL"

# The suite starts hundreds of services in one process: a full collection and a freeze at each start
# (`settle_heap`) would cost it minutes. tests/unit/adapters/test_allocator.py covers the freeze.
os.environ.setdefault("CHAPKIT_GC_FREEZE", "0")
BACKENDS = ["memory", "sqlite_memory", "sqlite_file", "postgres"]

TESTS_ROOT = Path(__file__).parent
TIERS = {
    "unit": "unit",
    "contract": "contract",
    "integration": "integration",
    "cli": "integration",
    "testing_kit": "integration",
    "e2e": "e2e",
    "examples": "e2e",
}
"""The tier of each directory under tests/: every test gets its directory's marker (`-m unit`, `-m 'not e2e'`)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier; a test in a directory without a tier is a usage error."""
    for item in items:
        relative = item.path.relative_to(TESTS_ROOT)
        tier = TIERS.get(relative.parts[0]) if len(relative.parts) > 1 else None
        if tier is None:
            raise pytest.UsageError(f"{relative}: put it in a directory with a tier ({', '.join(sorted(TIERS))})")
        item.add_marker(tier)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (dropped at the end), or a skip with the reason."""
    with fresh_postgres_database() as url:
        yield url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it; skip when no server is configured."""
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"PostgreSQL cases need {POSTGRES_URL_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)")
    url = make_url(base_url)
    name = f"chapkit_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    _run_admin(admin_dsn, f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        _run_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run_admin(dsn: str, statement: str) -> None:
    """Run one statement on the server, on a thread of its own (an event loop may be running here)."""

    async def run() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def sqlite_file_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite file per test run: migrated once, truncated between tests (D12)."""
    path: Path = tmp_path_factory.mktemp("sqlite") / "contract.db"
    return f"sqlite+aiosqlite:///{path}"


def backend_url(request: pytest.FixtureRequest, backend: str) -> str:
    """The database URL of a backend name."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite_memory":
        return "sqlite+aiosqlite:///:memory:"
    if backend == "sqlite_file":
        return str(request.getfixturevalue("sqlite_file_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each storage backend in turn; cases marked concurrent_sessions skip SQLite :memory: (D9)."""
    name: str = request.param
    if name == "sqlite_memory" and request.node.get_closest_marker("concurrent_sessions"):
        pytest.skip("SQLite :memory: shares one connection between sessions (D9)")
    return name


@pytest.fixture
async def storage(request: pytest.FixtureRequest, backend: str) -> AsyncIterator[Storage]:
    """A started storage on the backend, with every table empty."""
    async with open_storage(backend_url(request, backend)) as opened:
        await truncate(opened.database)
        yield opened


async def truncate(database: Datastore) -> None:
    """Empty every table of Base.metadata (SQL) — memory databases start empty anyway."""
    engine = getattr(database, "engine", None)
    if engine is None:
        return
    async with engine.begin() as connection:
        existing = await connection.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing:
                await connection.execute(table.delete())
