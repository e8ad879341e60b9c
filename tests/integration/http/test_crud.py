"""CrudRouter over a user's own entity: every route, its errors, pagination, permissions, `$` routes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends
from ulid import ULID

from chapkit import BaseManager, CrudPermissions, CrudRouter
from tests.integration.http.conftest import builder, serve, widget_manager
from tests.support.models import WidgetIn, WidgetOut

PREFIX = "/api/v1/widgets"
PROBLEM = "application/problem+json"


def widget_router(permissions: CrudPermissions | None = None) -> CrudRouter[WidgetIn, WidgetOut]:
    return CrudRouter(
        prefix=PREFIX,
        tags=["Widgets"],
        entity_in_type=WidgetIn,
        entity_out_type=WidgetOut,
        manager_factory=widget_manager,
        permissions=permissions,
    )


def app_with(router: CrudRouter[Any, Any], url: str = "sqlite+aiosqlite:///:memory:") -> Any:
    return builder(url).include_router(router.router).build()


def assert_problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:chapkit:error:{kind}"
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    return body


async def test_create_returns_201_with_location_and_stored_entity(sqlite_file: str) -> None:
    async with serve(app_with(widget_router(), sqlite_file)) as client:
        response = await client.post(PREFIX, json={"name": "a"})
        assert response.status_code == 201
        body = response.json()
        assert response.headers["location"] == f"http://testserver{PREFIX}/{body['id']}"
        assert body["name"] == "a"
        assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
        fetched = await client.get(response.headers["location"])
        assert fetched.status_code == 200 and fetched.json() == body


async def test_post_with_existing_id_is_409_conflict_and_keeps_the_original() -> None:
    async with serve(app_with(widget_router())) as client:
        created = (await client.post(PREFIX, json={"name": "original"})).json()
        response = await client.post(PREFIX, json={"id": created["id"], "name": "intruder"})
        assert_problem(response, 409, "conflict")
        assert response.json()["instance"] == PREFIX  # the request's path, not the entity's
        assert (await client.get(f"{PREFIX}/{created['id']}")).json()["name"] == "original"


async def test_post_with_new_client_id_creates_it() -> None:
    new_id = str(ULID())
    async with serve(app_with(widget_router())) as client:
        response = await client.post(PREFIX, json={"id": new_id, "name": "mine"})
        assert response.status_code == 201 and response.json()["id"] == new_id


async def test_list_without_pagination_is_a_plain_list_in_id_order() -> None:
    async with serve(app_with(widget_router())) as client:
        for name in ("a", "b", "c"):
            await client.post(PREFIX, json={"name": name})
        response = await client.get(PREFIX)
        assert response.status_code == 200
        assert [w["name"] for w in response.json()] == ["a", "b", "c"]
        only_page = await client.get(PREFIX, params={"page": 1})
        assert isinstance(only_page.json(), list)


async def test_list_with_page_and_size_is_a_paginated_response() -> None:
    async with serve(app_with(widget_router())) as client:
        for index in range(5):
            await client.post(PREFIX, json={"name": f"w{index}"})
        body = (await client.get(PREFIX, params={"page": 2, "size": 2})).json()
        assert [w["name"] for w in body["items"]] == ["w2", "w3"]
        assert (body["total"], body["page"], body["size"], body["pages"]) == (5, 2, 2, 3)
        beyond = (await client.get(PREFIX, params={"page": 9, "size": 2})).json()
        assert beyond["items"] == [] and beyond["total"] == 5


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0, "size": 10},
        {"page": -1, "size": 10},
        {"page": 1, "size": 0},
        {"page": 1, "size": 101},
        {"page": 1, "size": "ten"},
        {"page": 2**63, "size": 100},
        {"page": 10**30, "size": 1},
    ],
)
async def test_bad_pagination_is_a_4xx_json_error(params: dict[str, Any]) -> None:
    async with serve(app_with(widget_router())) as client:
        response = await client.get(PREFIX, params=params)
        assert 400 <= response.status_code < 500
        assert "detail" in response.json()


async def test_largest_page_is_served_empty() -> None:
    async with serve(app_with(widget_router())) as client:
        response = await client.get(PREFIX, params={"page": 2**53, "size": 100})
        assert response.status_code == 200 and response.json()["items"] == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_invalid_ulid_is_400_invalid_ulid(method: str) -> None:
    async with serve(app_with(widget_router())) as client:
        response = await client.request(method, f"{PREFIX}/not-a-ulid", json={"name": "x"})
        body = assert_problem(response, 400, "invalid-ulid")
        assert body["instance"] == f"{PREFIX}/not-a-ulid"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_missing_entity_is_404_not_found(method: str) -> None:
    missing = str(ULID())
    async with serve(app_with(widget_router())) as client:
        response = await client.request(method, f"{PREFIX}/{missing}", json={"name": "x"})
        assert_problem(response, 404, "not-found")


async def test_put_of_an_unknown_id_is_a_404_and_stores_nothing() -> None:
    """As in the reference (D14): a client that probes with PUT, then DELETEs, sees 404 both times."""
    wanted = str(ULID())
    async with serve(app_with(widget_router())) as client:
        missing = await client.put(f"{PREFIX}/{wanted}", json={"name": "new", "size": 3})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["type"] == "urn:chapkit:error:not-found"
        assert (await client.get(f"{PREFIX}/{wanted}")).status_code == 404
        assert (await client.delete(f"{PREFIX}/{wanted}")).status_code == 404
        assert (await client.get(PREFIX)).json() == []


async def test_put_updates_and_delete_removes() -> None:
    async with serve(app_with(widget_router())) as client:
        created = (await client.post(PREFIX, json={"name": "a", "size": 1})).json()
        updated = await client.put(f"{PREFIX}/{created['id']}", json={"name": "b", "size": 2})
        assert updated.status_code == 200
        assert updated.json()["name"] == "b" and updated.json()["id"] == created["id"]
        assert updated.json()["created_at"] == created["created_at"]
        deleted = await client.delete(f"{PREFIX}/{created['id']}")
        assert deleted.status_code == 204 and deleted.content == b""
        assert (await client.get(f"{PREFIX}/{created['id']}")).status_code == 404


async def test_body_validation_error_is_422_with_detail_list() -> None:
    async with serve(app_with(widget_router())) as client:
        response = await client.post(PREFIX, json={"size": "big"})
        assert response.status_code == 422
        assert isinstance(response.json()["detail"], list)
        malformed = await client.post(PREFIX, json={"id": "nope", "name": "a"})
        assert malformed.status_code == 422


async def test_schema_route_returns_the_output_schema_and_is_not_taken_for_an_id() -> None:
    async with serve(app_with(widget_router())) as client:
        response = await client.get(f"{PREFIX}/$schema")
        assert response.status_code == 200
        assert response.json() == WidgetOut.model_json_schema()


async def test_custom_operations_are_routed_before_parametric_routes() -> None:
    router = widget_router()

    async def stats(manager: BaseManager[Any, Any, Any, Any] = Depends(widget_manager)) -> dict[str, int]:
        return {"count": await manager.count()}

    async def shout(
        entity_id: str, manager: BaseManager[Any, Any, Any, Any] = Depends(widget_manager)
    ) -> dict[str, str]:
        widget = await manager.find_by_id(ULID.from_str(entity_id))
        assert widget is not None
        return {"name": widget.name.upper()}

    router.register_collection_operation("stats", stats)
    router.register_entity_operation("shout", shout, http_method="POST")
    paths = [getattr(route, "path_format", "") for route in router.router.routes]
    assert paths.index(f"{PREFIX}/$stats") < paths.index(f"{PREFIX}/{{entity_id}}")
    assert paths.index(f"{PREFIX}/{{entity_id}}/$shout") < paths.index(f"{PREFIX}/{{entity_id}}")
    async with serve(app_with(router)) as client:
        created = (await client.post(PREFIX, json={"name": "quiet"})).json()
        assert (await client.get(f"{PREFIX}/$stats")).json() == {"count": 1}
        assert (await client.post(f"{PREFIX}/{created['id']}/$shout")).json() == {"name": "QUIET"}


def test_entity_operations_document_their_problems() -> None:
    router = widget_router()

    async def peek(entity_id: str) -> dict[str, str]:
        return {"id": entity_id}

    router.register_entity_operation("peek", peek)
    router.register_entity_operation("poke", peek, http_method="POST")
    router.register_collection_operation("count", peek)
    paths = app_with(router).openapi()["paths"]
    assert {"400", "404"} <= set(paths[f"{PREFIX}/{{entity_id}}/$peek"]["get"]["responses"])
    assert "409" not in paths[f"{PREFIX}/{{entity_id}}/$peek"]["get"]["responses"]
    assert {"400", "404", "409"} <= set(paths[f"{PREFIX}/{{entity_id}}/$poke"]["post"]["responses"])
    assert "404" not in paths[f"{PREFIX}/$count"]["get"]["responses"]


def test_unsupported_operation_method_is_rejected() -> None:
    async def handler() -> None:
        return None

    with pytest.raises(ValueError, match="Unsupported HTTP method"):
        widget_router().register_collection_operation("x", handler, http_method="TRACE")


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [
        (CrudPermissions(create=False), {"POST ": 405, "GET ": 200, "GET /{id}": 200}),
        (CrudPermissions(read=False), {"GET ": 405, "GET /$schema": 404, "GET /{id}": 405, "POST ": 201}),
        (CrudPermissions(update=False), {"PUT /{id}": 405, "GET /{id}": 200}),
        (CrudPermissions(delete=False), {"DELETE /{id}": 405, "GET /{id}": 200}),
    ],
)
async def test_permissions_switch_routes_off(
    permissions: CrudPermissions, expected: dict[str, int], sqlite_file: str
) -> None:
    async with serve(app_with(widget_router(), sqlite_file)) as seed_client:
        entity_id = (await seed_client.post(PREFIX, json={"name": "seed"})).json()["id"]
    async with serve(app_with(widget_router(permissions), sqlite_file)) as client:
        for request, status in expected.items():
            method, path = request.split(" ")
            response = await client.request(method, PREFIX + path.replace("{id}", entity_id), json={"name": "y"})
            assert response.status_code == status, (request, response.text)
        if status == 405:
            assert response.headers["content-type"] == PROBLEM


async def test_undeclared_methods_on_dollar_routes_are_405_with_every_allowed_method() -> None:
    async with serve(app_with(widget_router())) as client:
        response = await client.delete(f"{PREFIX}/$schema")
        assert response.status_code == 405 and response.headers["allow"] == "GET"
        collection = await client.patch(PREFIX)
        assert collection.status_code == 405 and collection.headers["allow"] == "GET, POST"
        item = await client.patch(f"{PREFIX}/{ULID()}")
        assert item.headers["allow"] == "DELETE, GET, PUT"


@pytest.mark.parametrize("bad_id", [{}, [], 1.5, True, 7, "01m8bjx", "x" * 26])
async def test_malformed_ids_in_bodies_are_422(bad_id: Any) -> None:
    async with serve(app_with(widget_router())) as client:
        response = await client.post(PREFIX, json={"id": bad_id, "name": "a"})
    assert response.status_code == 422 and isinstance(response.json()["detail"], list)


async def test_lone_surrogates_are_a_400_problem_not_a_500(sqlite_file: str) -> None:
    async with serve(app_with(widget_router(), sqlite_file)) as client:
        response = await client.post(
            PREFIX, content=b'{"name": "a\\ud800b"}', headers={"content-type": "application/json"}
        )
        assert_problem(response, 400, "bad-request")
        paired = await client.post(
            PREFIX, content=b'{"name": "\\ud83d\\ude00"}', headers={"content-type": "application/json"}
        )
        assert paired.status_code == 201 and paired.json()["name"] == "\U0001f600"


@pytest.mark.parametrize("backend", ["sqlite_file", "postgres"])
async def test_integers_beyond_the_column_range_are_a_400_problem(request: pytest.FixtureRequest, backend: str) -> None:
    url = request.getfixturevalue("sqlite_file" if backend == "sqlite_file" else "postgres_url")
    async with serve(app_with(widget_router(), url)) as client:
        for size in (2**63, -(2**70), 10**22):
            response = await client.post(PREFIX, json={"name": "huge", "size": size})
            body = assert_problem(response, 400, "validation-failed")
            assert "INSERT" not in body["detail"] and str(size) not in body["detail"]
        stored = await client.get(PREFIX)  # the run's database: other tests' widgets may be there
        assert "huge" not in [widget["name"] for widget in stored.json()]
        assert (await client.post(PREFIX, json={"name": "big", "size": 2**31 - 1})).status_code == 201
