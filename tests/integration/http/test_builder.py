"""BaseServiceBuilder: database choices, info, hooks, overrides, custom routers, isolation of two apps."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import ValidationError

from chapkit import (
    BaseConfig,
    BaseServiceBuilder,
    InMemoryDatastore,
    ServiceBuilder,
    ServiceInfo,
    SqliteDatabase,
    get_database,
    get_session,
)
from chapkit.domain.ports import Datastore
from tests.integration.http.conftest import builder, info, serve


def test_service_info_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        ServiceInfo(display_name="x", unknown="y")  # type: ignore[call-arg]


async def test_info_endpoint_returns_the_service_info_and_summary_becomes_description() -> None:
    app = BaseServiceBuilder(info=ServiceInfo(display_name="Svc", version="2.0.0", summary="Short")).build()
    assert app.title == "Svc" and app.version == "2.0.0" and app.description == "Short"
    async with serve(app) as client:
        response = await client.get("/api/v1/info")
    assert response.status_code == 200
    assert response.json() == {
        "display_name": "Svc",
        "version": "2.0.0",
        "summary": "Short",
        "description": "Short",
        "contact": None,
        "license_info": None,
    }


def test_with_database_rejects_other_types_with_the_hint() -> None:
    with pytest.raises(TypeError, match=r"Expected str, Database, or None, got int\. Use \.with_database\(\)"):
        BaseServiceBuilder(info=info()).with_database(42)  # type: ignore[arg-type]


def test_with_database_default_is_in_memory_sqlite() -> None:
    app = BaseServiceBuilder(info=info(), database_url="memory://").with_database().build()
    assert app.state.database_url == "sqlite+aiosqlite:///:memory:"


def test_constructor_database_url_is_used() -> None:
    assert BaseServiceBuilder(info=info(), database_url="memory://").build().state.database_url == "memory://"


@pytest.mark.parametrize(
    ("url", "kind"),
    [("memory://", InMemoryDatastore), ("sqlite+aiosqlite:///:memory:", SqliteDatabase)],
)
async def test_url_selects_the_adapter(url: str, kind: type[Any]) -> None:
    app = builder(url, include_logging=False).build()
    async with serve(app):
        assert isinstance(app.state.database, kind)
    assert app.state.database is None


async def test_pool_arguments_reach_the_engine(sqlite_file: str) -> None:
    app = BaseServiceBuilder(info=info()).with_database(sqlite_file, pool_size=3, max_overflow=1).build()
    async with serve(app):
        pool = app.state.database.engine.pool
        # SQLite files keep a fixed pool: overflow connections would be threads opened per checkout.
        assert (pool.size(), pool._max_overflow) == (3, 0)


async def test_database_instance_is_used_and_left_open(sqlite_file: str) -> None:
    database = SqliteDatabase(sqlite_file)
    app = BaseServiceBuilder(info=info()).with_database(database).with_health().build()
    async with serve(app) as client:
        assert app.state.database is database
        assert (await client.get("/health")).json()["status"] == "healthy"
    await database.ping()  # the builder did not dispose a database it did not create
    await database.dispose()


async def test_memory_database_has_no_sql_session() -> None:
    router = APIRouter()

    @router.get("/session")
    async def needs_session(session: Any = Depends(get_session)) -> dict[str, str]:
        return {"type": type(session).__name__}

    app = builder("memory://", include_error_handlers=True).include_router(router).build()
    async with serve(app) as client:
        response = await client.get("/session")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "memory" not in response.text  # the reason is logged, not sent


async def test_get_session_gives_an_sql_session(sqlite_file: str) -> None:
    router = APIRouter()

    @router.get("/session")
    async def needs_session(session: Any = Depends(get_session)) -> dict[str, str]:
        return {"type": type(session).__name__}

    async with serve(builder(sqlite_file).include_router(router).build()) as client:
        assert (await client.get("/session")).json() == {"type": "QueuedWriteSession"}


async def test_startup_and_shutdown_hooks_see_their_own_service() -> None:
    seen: list[tuple[str, Datastore]] = []

    async def on_start(app: FastAPI) -> None:
        seen.append(("start", get_database()))

    async def on_stop(app: FastAPI) -> None:
        seen.append(("stop", get_database()))

    app = builder("memory://").on_startup(on_start).on_shutdown(on_stop).build()
    async with serve(app):
        database = app.state.database
    assert seen == [("start", database), ("stop", database)]


async def test_include_router_and_override_dependency() -> None:
    async def real() -> str:
        return "real"

    async def fake() -> str:
        return "fake"

    router = APIRouter()

    @router.get("/value")
    async def value(v: str = Depends(real)) -> dict[str, str]:
        return {"value": v}

    app = builder("memory://").include_router(router).override_dependency(real, fake).build()
    assert app.dependency_overrides == {real: fake}
    async with serve(app) as client:
        assert (await client.get("/value")).json() == {"value": "fake"}


def test_builder_wires_no_dependency_overrides_of_its_own() -> None:
    app = builder("memory://").with_health().with_system().with_jobs().build()
    assert app.dependency_overrides == {}


def test_create_builds_in_one_call() -> None:
    app = BaseServiceBuilder.create(info=info("One Call"), database_url="memory://")
    assert isinstance(app, FastAPI) and app.title == "One Call"


async def test_two_apps_in_one_process_share_nothing(tmp_path: Any) -> None:
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(database: Datastore = Depends(get_database)) -> dict[str, str]:
        return {"url": database.url}

    first = builder(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}").include_router(router).with_jobs().build()
    second = builder(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}").include_router(router).with_jobs().build()
    async with serve(first) as client_a, serve(second) as client_b:
        assert app_db(first) is not app_db(second)
        assert first.state.scheduler is not second.state.scheduler
        assert first.state.app_manager is not second.state.app_manager
        assert (await client_a.get("/whoami")).json()["url"].endswith("a.db")
        assert (await client_b.get("/whoami")).json()["url"].endswith("b.db")
        assert (await client_a.get("/whoami")).json()["url"].endswith("a.db")
        # outside any request: the most recently started service
        assert get_database() is app_db(second)
    with pytest.raises(RuntimeError, match="Database not initialized"):
        get_database()


def app_db(app: FastAPI) -> Datastore:
    database: Datastore = app.state.database
    return database


def test_invalid_health_check_names_are_rejected() -> None:
    async def check() -> Any:
        return ("healthy", None)

    with pytest.raises(ValueError, match="contains invalid characters"):
        builder().with_health(checks={"bad name!": check}).build()


def test_with_jobs_rejects_non_positive_concurrency() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        builder().with_jobs(max_concurrency=0)


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_get_session_honours_an_override_of_get_database(tmp_path: Any, asynchronous: bool) -> None:
    other = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await other.init()
    router = APIRouter()

    @router.get("/bound")
    async def bound(session: Any = Depends(get_session)) -> dict[str, str]:
        return {"url": str(session.bind.url)}

    async def async_override() -> Datastore:
        return other

    def sync_override() -> Datastore:
        return other

    override = async_override if asynchronous else sync_override
    app = builder(f"sqlite+aiosqlite:///{tmp_path / 'main.db'}").include_router(router).build()
    app.dependency_overrides[get_database] = override
    async with serve(app) as client:
        assert (await client.get("/bound")).json()["url"].endswith("other.db")
    await other.dispose()


async def test_a_failing_startup_hook_stops_what_was_started(sqlite_file: str) -> None:
    async def broken(app: FastAPI) -> None:
        raise RuntimeError("cannot seed")

    app = builder(sqlite_file).with_jobs().on_startup(broken).build()
    with pytest.raises(RuntimeError, match="cannot seed"):
        async with serve(app):
            pass
    assert app.state.database is None
    with pytest.raises(RuntimeError, match="Database not initialized"):
        get_database()


async def test_a_write_that_cannot_get_the_write_turn_in_time_is_a_503_problem(sqlite_file: str) -> None:
    database = SqliteDatabase(sqlite_file)
    app = ServiceBuilder(info=info()).with_database(database).with_config(BaseConfig).build()
    async with serve(app) as client:
        turn = database._turn
        assert turn is not None
        turn.timeout = 0.05
        await turn.acquire()  # another writer holds the turn and does not give it back in time
        try:
            response = await client.post("/api/v1/configs", json={"name": "late", "data": {}})
        finally:
            await turn.release()
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:chapkit:error:service-unavailable"
        assert (await client.get("/api/v1/configs")).json() == []
        assert (await client.post("/api/v1/configs", json={"name": "in time", "data": {}})).status_code == 201
    await database.dispose()  # a database handed to the builder stays the caller's to close
