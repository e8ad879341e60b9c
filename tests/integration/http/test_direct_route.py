"""`DirectRoute`: id routes on a `request_scoped` manager factory skip FastAPI's dependency solver, nothing else."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute
from ulid import ULID

from chapkit import BaseManager, CrudRouter
from chapkit.adapters.http.direct_route import DirectRoute, request_scoped
from chapkit.bootstrap.containers import entity_manager_on
from chapkit.bootstrap.dependencies import request_unit_of_work
from tests.integration.http.conftest import builder, serve, widget_manager
from tests.support.models import Widget, WidgetIn, WidgetOut

PREFIX = "/api/v1/widgets"
calls: list[str] = []


@request_scoped
async def scoped_widget_manager(request: Request) -> BaseManager[Any, Any, Any, Any]:
    """A manager factory of the request alone, as chapkit's built-in ones are."""
    calls.append(request.method)
    return entity_manager_on(await request_unit_of_work(request), Widget, WidgetOut)


def router(factory: Any, **kwargs: Any) -> CrudRouter[WidgetIn, WidgetOut]:
    return CrudRouter(PREFIX, ["Widgets"], WidgetIn, WidgetOut, factory, **kwargs)


def id_routes(crud: CrudRouter[Any, Any]) -> dict[str, APIRoute]:
    return {
        method: route
        for route in crud.router.routes
        if isinstance(route, APIRoute) and route.path_format == PREFIX + "/{entity_id}"
        for method in route.methods
    }


def test_only_the_id_reads_and_deletes_of_a_request_scoped_factory_are_direct() -> None:
    scoped = id_routes(router(scoped_widget_manager))
    assert {method for method, route in scoped.items() if isinstance(route, DirectRoute)} == {"GET", "DELETE"}
    assert not isinstance(scoped["PUT"], DirectRoute)  # a body: FastAPI parses it
    assert not any(isinstance(route, DirectRoute) for route in id_routes(router(widget_manager)).values())


async def test_direct_routes_answer_as_fastapi_ones_do() -> None:
    calls.clear()
    async with serve(builder().include_router(router(scoped_widget_manager).router).build()) as client:
        created = (await client.post(PREFIX, json={"name": "a"})).json()
        assert (await client.get(f"{PREFIX}/{created['id']}")).json() == created
        bad = await client.get(f"{PREFIX}/not-a-ulid")
        assert bad.status_code == 400 and bad.json()["type"] == "urn:chapkit:error:invalid-ulid"
        missing = await client.get(f"{PREFIX}/{ULID()}")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        assert (await client.delete(f"{PREFIX}/{created['id']}")).status_code == 204
        assert (await client.get(f"{PREFIX}/{created['id']}")).status_code == 404  # the delete was committed
        assert (await client.delete(f"{PREFIX}/{created['id']}")).status_code == 404
    assert calls == ["POST", "GET", "GET", "GET", "DELETE", "GET", "DELETE"]  # once per request, as FastAPI calls it


async def test_a_direct_route_documents_what_a_fastapi_one_does() -> None:
    documents = []
    for factory in (scoped_widget_manager, widget_manager):
        async with serve(builder().include_router(router(factory).router).build()) as client:
            documents.append((await client.get("/openapi.json")).json()["paths"][PREFIX + "/{entity_id}"])
    scoped, plain = documents
    for method in ("get", "delete"):
        assert scoped[method]["parameters"] == plain[method]["parameters"]
        assert scoped[method]["responses"] == plain[method]["responses"]


async def test_a_route_with_dependencies_of_its_own_runs_them() -> None:
    async def refuse() -> None:
        raise HTTPException(status_code=403, detail="no")

    crud = router(scoped_widget_manager, dependencies=[Depends(refuse)])
    async with serve(builder().include_router(crud.router).build()) as client:
        assert (await client.get(f"{PREFIX}/{ULID()}")).status_code == 403
        assert (await client.delete(f"{PREFIX}/{ULID()}")).status_code == 403
