"""D21 over HTTP: routes reach storage through units of work from the service's container."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import APIRouter, Depends

from chapkit import CrudRouter, InMemoryDatastore, ServiceBuilder, ServiceInfo, get_session
from chapkit.bootstrap.dependencies import manager_dependency
from chapkit.domain.ports import UnitOfWork
from tests.integration.http.conftest import serve
from tests.support.artifacts import ModelConfig
from tests.support.models import Widget, WidgetIn, WidgetOut


class RecordingDatastore(InMemoryDatastore):
    """A memory datastore that remembers the write intent of every unit of work it gave."""

    def __init__(self) -> None:
        super().__init__()
        self.intents: list[bool] = []

    def unit_of_work(self, *, write: bool = False) -> Any:
        self.intents.append(write)
        return super().unit_of_work(write=write)


def _service(database: Any) -> ServiceBuilder:
    return ServiceBuilder(info=ServiceInfo(display_name="uow")).with_database(database).with_config(ModelConfig)


async def test_requests_that_change_data_open_writing_units() -> None:
    datastore = RecordingDatastore()
    async with serve(_service(datastore).build()) as client:
        created = await client.post("/api/v1/configs", json={"name": "a", "data": {"epochs": 1}})
        assert created.status_code == 201
        del datastore.intents[:]
        assert (await client.get("/api/v1/configs")).status_code == 200
        assert (await client.delete(f"/api/v1/configs/{created.json()['id']}")).status_code == 204
    assert datastore.intents == [False, True]


async def test_a_users_own_entity_is_served_on_memory_through_the_container() -> None:
    router = CrudRouter.create(
        prefix="/api/v1/widgets",
        tags=["Widgets"],
        entity_in_type=WidgetIn,
        entity_out_type=WidgetOut,
        manager_factory=manager_dependency(Widget, WidgetOut),
    )
    app = _service("memory://").include_router(router).build()
    async with serve(app) as client:
        created = await client.post("/api/v1/widgets", json={"name": "w", "size": 3})
        assert created.status_code == 201
        listed = (await client.get("/api/v1/widgets")).json()
        assert [item["name"] for item in listed] == ["w"]


async def test_get_session_on_memory_keeps_the_clear_error_of_d11() -> None:
    router = APIRouter()

    @router.get("/needs-session")
    async def needs_session(session: Any = Depends(get_session)) -> dict[str, str]:
        return {}

    app = _service("memory://").include_router(router).build()
    async with serve(app) as client:
        assert (await client.get("/needs-session")).status_code == 500
    with pytest.raises(RuntimeError, match="memory:// has none"):
        async with serve(app):
            await anext(get_session(_request()))


def _request() -> Any:
    return SimpleNamespace(method="GET", app=SimpleNamespace(dependency_overrides={}))


def test_units_of_work_are_a_port() -> None:
    assert isinstance(InMemoryDatastore().unit_of_work(), UnitOfWork)
