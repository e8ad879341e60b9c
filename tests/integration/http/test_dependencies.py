"""D6: the dependency functions resolve the running service, in requests, hooks, tasks and plain code."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI

from chapkit import (
    AppManager,
    InMemoryDatabase,
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
    replacement = InMemoryDatabase()

    async def swap(app: FastAPI) -> None:
        set_database(replacement)

    swapped = builder("memory://").on_startup(swap).include_router(probe_router()).with_jobs().build()
    plain = builder("memory://").include_router(probe_router()).with_jobs().build()
    async with serve(swapped) as client_a, serve(plain) as client_b:
        assert (await client_a.get("/probe")).json()["database"] == id(replacement)
        assert (await client_b.get("/probe")).json()["database"] == id(plain.state.database)


async def test_setters_outside_any_service_work_for_plain_code() -> None:
    runtime = current_runtime()
    database = InMemoryDatabase()
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
