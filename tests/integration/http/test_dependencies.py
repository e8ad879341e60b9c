"""D6: the dependency functions resolve the running service, in requests, hooks, tasks and plain code."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI

from chapkit import (
    AppManager,
    ArtifactHierarchy,
    BaseConfig,
    ConfigIn,
    ConfigManager,
    ConfigRepository,
    InMemoryDatastore,
    ServiceBuilder,
    ServiceInfo,
    get_app_manager,
    get_database,
    get_scheduler,
    set_app_manager,
    set_database,
    set_scheduler,
)
from chapkit.bootstrap.dependencies import current_runtime
from chapkit.domain.ports import Datastore, JobScheduler
from tests.integration.http.conftest import builder, serve


def probe_router() -> APIRouter:
    router = APIRouter()

    @router.get("/probe")
    async def probe(
        database: Datastore = Depends(get_database),
        scheduler: JobScheduler = Depends(get_scheduler),
        apps: AppManager = Depends(get_app_manager),
    ) -> dict[str, int]:
        in_task = await asyncio.create_task(_ids_in_task())
        return {"database": id(database), "scheduler": id(scheduler), "apps": id(apps), "task_database": in_task}

    return router


async def _ids_in_task() -> int:
    return id(get_database())


async def test_each_request_sees_its_own_service_even_in_spawned_tasks() -> None:
    first = builder("memory://").with_jobs().include_router(probe_router()).build()
    second = builder("memory://").with_jobs().include_router(probe_router()).build()
    async with serve(first) as client_a, serve(second) as client_b:
        for client, app in ((client_a, first), (client_b, second), (client_a, first)):
            ids = (await client.get("/probe")).json()
            assert ids == {
                "database": id(app.state.database),
                "scheduler": id(app.state.scheduler),
                "apps": id(app.state.app_manager),
                "task_database": id(app.state.database),
            }


async def test_after_the_latest_stops_the_fallback_is_the_one_still_running() -> None:
    first = builder("memory://").build()
    second = builder("memory://").build()
    async with serve(first):
        async with serve(second):
            assert get_database() is second.state.database
        assert get_database() is first.state.database


async def test_setters_in_a_startup_hook_change_only_that_service() -> None:
    replacement = InMemoryDatastore()

    async def swap(app: FastAPI) -> None:
        set_database(replacement)

    swapped = builder("memory://").on_startup(swap).include_router(probe_router()).with_jobs().build()
    plain = builder("memory://").include_router(probe_router()).with_jobs().build()
    async with serve(swapped) as client_a, serve(plain) as client_b:
        assert (await client_a.get("/probe")).json()["database"] == id(replacement)
        assert (await client_b.get("/probe")).json()["database"] == id(plain.state.database)


async def test_setters_outside_any_service_work_for_plain_code() -> None:
    runtime = current_runtime()
    database = InMemoryDatastore()
    manager = AppManager([])
    try:
        set_database(database)
        set_app_manager(manager)
        assert get_database() is database and get_app_manager() is manager
        with pytest.raises(RuntimeError, match="Scheduler not initialized"):
            get_scheduler()
        scheduler: Any = object()
        set_scheduler(scheduler)
        assert get_scheduler() is scheduler
    finally:
        runtime.database = runtime.scheduler = runtime.app_manager = None
    with pytest.raises(RuntimeError, match="AppManager not initialized"):
        get_app_manager()


async def test_service_without_jobs_has_no_scheduler() -> None:
    router = APIRouter()

    @router.get("/scheduler")
    async def scheduler_state() -> dict[str, bool]:
        try:
            get_scheduler()
        except RuntimeError:
            return {"scheduler": False}
        return {"scheduler": True}

    async with serve(builder("memory://").include_router(router).build()) as client:
        assert (await client.get("/scheduler")).json() == {"scheduler": False}


async def test_startup_hooks_of_two_services_resolve_their_own_database_and_scheduler(tmp_path: Any) -> None:
    seen: dict[str, tuple[Datastore, JobScheduler]] = {}

    def recorder(name: str) -> Any:
        async def on_startup(app: FastAPI) -> None:
            seen[name] = (get_database(), get_scheduler())

        return on_startup

    first = builder(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}").with_jobs().on_startup(recorder("first")).build()
    second = builder("memory://").with_jobs().on_startup(recorder("second")).build()
    async with serve(first), serve(second):  # the second starts while the first runs
        assert seen["first"] == (first.state.database, first.state.scheduler)
        assert seen["second"] == (second.state.database, second.state.scheduler)
        assert first.state.database is not second.state.database
        assert first.state.scheduler is not second.state.scheduler


class Settings(BaseConfig):
    epochs: int


async def test_data_seeded_in_a_startup_hook_lands_in_that_service_only(tmp_path: Any) -> None:
    async def seed(app: FastAPI) -> None:
        # As services written for the original seed: the SQL repository on a session of get_database().
        async with get_database().session() as session:
            manager = ConfigManager[Settings](ConfigRepository(session), Settings)
            await manager.save(ConfigIn[Settings](name="seeded", data=Settings(epochs=3)))

    def service(url: str, *hooks: Any) -> FastAPI:
        builder = ServiceBuilder(info=ServiceInfo(display_name="Seeded")).with_database(url)
        builder.with_config(Settings).with_artifacts(hierarchy=ArtifactHierarchy(name="ml"))
        for hook in hooks:
            builder.on_startup(hook)
        return builder.build()

    seeded, empty = service(f"sqlite+aiosqlite:///{tmp_path / 'seeded.db'}", seed), service("memory://")
    async with serve(empty) as client_empty, serve(seeded) as client_seeded:
        assert [c["name"] for c in (await client_seeded.get("/api/v1/configs")).json()] == ["seeded"]
        assert (await client_empty.get("/api/v1/configs")).json() == []


async def test_overriding_a_get_dependency_changes_custom_routes_only() -> None:
    """As in the reference: `override_dependency(get_config_manager, ...)` reaches the service's own
    routers that depend on it, never the built-in config routes."""
    from chapkit import get_config_manager

    seen: list[str] = []

    class Replacement:
        async def find_all(self) -> list[Any]:
            seen.append("replacement")
            return []

    async def replacement() -> Replacement:
        return Replacement()

    router = APIRouter()

    @router.get("/custom")
    async def custom(manager: Any = Depends(get_config_manager)) -> int:
        return len(await manager.find_all())

    app = (
        ServiceBuilder(info=ServiceInfo(display_name="overrides"))
        .with_database("memory://")
        .with_config(BaseConfig)
        .include_router(router)
        .override_dependency(get_config_manager, replacement)
        .build()
    )
    async with serve(app) as client:
        created = await client.post("/api/v1/configs", json={"name": "kept", "data": {}})
        assert created.status_code == 201
        assert [c["name"] for c in (await client.get("/api/v1/configs")).json()] == ["kept"]
        assert (await client.get("/custom")).json() == 0
    assert seen == ["replacement"]
