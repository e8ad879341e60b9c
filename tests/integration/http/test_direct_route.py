"""`DirectRoute`: routes on a `request_scoped` manager factory skip FastAPI's dependency solver, nothing else."""

from __future__ import annotations

from typing import Any

import fastapi.routing
from fastapi import Depends, HTTPException, Request
from ulid import ULID

from chapkit import BaseManager, CrudRouter, MLRouter, get_ml_manager
from chapkit.adapters.http.direct_route import DirectRoute, request_scoped
from chapkit.bootstrap.containers import entity_manager_on
from chapkit.bootstrap.dependencies import request_unit_of_work
from tests.integration.http.conftest import builder, serve, widget_manager
from tests.integration.http.ml_support import ML, create_config, frame, ml_service, wait_for_job
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


def direct_routes(crud: CrudRouter[Any, Any]) -> set[tuple[str, str]]:
    return {
        (method, route.path_format.removeprefix(PREFIX))
        for route in crud.router.routes
        if isinstance(route, DirectRoute)
        for method in route.methods
    }


def test_the_id_body_and_list_routes_of_a_request_scoped_factory_are_direct() -> None:
    direct = {("GET", "/{entity_id}"), ("DELETE", "/{entity_id}"), ("PUT", "/{entity_id}"), ("POST", ""), ("GET", "")}
    assert direct_routes(router(scoped_widget_manager)) == direct
    assert direct_routes(router(widget_manager)) == set()


async def test_the_list_answers_as_fastapis_does_whatever_the_query(monkeypatch: Any) -> None:
    """Plain `page` and `size` are read directly; every other query is FastAPI's, with the same answers."""
    solved: list[str] = []
    solve = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        solved.append(str(kwargs["request"].url.query))
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    queries = [
        "",
        "page=1&size=2",
        "page=2&size=2",
        "page=9&size=2",  # past the end
        "page=1",
        "size=2",
        "page=1&size=2&other=x",
        f"page={2**53}&size=100",
        f"page={2**53 + 1}&size=100",
        "page=0&size=2",
        "page=1&size=101",
        "page=1&size=0",
        "page=-1&size=2",
        "page=abc&size=2",
        "page=01&size=2",
        "page=%201&size=2",
        "page=1_0&size=2",
        "page=&size=2",
        "page=1&page=2&size=2",
        "page=1.0&size=2",
        f"page={'9' * 40}&size=2",
    ]
    answers, solved_by = [], []
    for factory in (scoped_widget_manager, widget_manager):
        async with serve(builder().include_router(router(factory).router).build()) as client:
            for name in ("a", "b", "c"):
                assert (await client.post(PREFIX, json={"name": name})).status_code == 201
            solved.clear()
            answers.append([_comparable(await client.get(f"{PREFIX}?{query}")) for query in queries])
            solved_by.append(list(solved))
    direct, fastapis = answers
    for query, mine, theirs in zip(queries, direct, fastapis, strict=True):
        assert mine == theirs, query
    assert [status for status, _, _ in direct[:9]] == [200] * 8 + [422]
    assert direct[1][2]["total"] == 3 and len(direct[1][2]["items"]) == 2
    # FastAPI solved every query of the service on a users' factory, and only the unplain ones of the other.
    assert solved_by == [queries[8:], queries]


def _without_new_values(value: Any) -> Any:
    """A JSON value with the values each new entity gets (id, times) left out, at any depth."""
    if isinstance(value, dict):
        return {k: _without_new_values(v) for k, v in value.items() if k not in ("id", "created_at", "updated_at")}
    if isinstance(value, list):
        return [_without_new_values(item) for item in value]
    return value


def _comparable(response: Any) -> tuple[int, str, Any]:
    """Status, media type and body of an answer, the values a new entity gets (id, times) left out."""
    body = _without_new_values(response.json()) if response.content else None
    return response.status_code, response.headers.get("content-type", ""), body


async def test_body_routes_answer_as_fastapi_ones_do_whatever_the_body() -> None:
    """Every request gets the same answer from a direct route as from FastAPI's handler of the same route."""
    stored = str(ULID())
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "", {"json": {"name": "a", "size": 2}}),
        ("POST", "", {"json": {"id": stored, "name": "s"}}),
        ("POST", "", {"json": {"id": stored, "name": "again"}}),  # 409
        ("POST", "", {"json": {"size": 2}}),  # 422: no name
        ("POST", "", {"json": {"name": "a", "size": "big"}}),
        ("POST", "", {"json": [1, 2]}),
        ("POST", "", {"json": None}),
        ("POST", "", {"content": b'{"name": "a",', "headers": {"content-type": "application/json"}}),
        ("POST", "", {"content": b"", "headers": {"content-type": "application/json"}}),
        ("POST", "", {"content": b'{"name": "t"}', "headers": {"content-type": "text/plain"}}),
        ("POST", "", {"content": b'{"name": "n"}'}),  # no content type
        ("POST", "", {"content": b'{"name": "v"}', "headers": {"content-type": "application/vnd.x+json"}}),
        ("POST", "", {"content": b'{"name": "c"}', "headers": {"content-type": "Application/JSON; charset=utf-8"}}),
        ("POST", "", {"content": b'{"name": "\xff"}', "headers": {"content-type": "application/json"}}),
        ("PUT", f"/{stored}", {"json": {"name": "renamed", "size": 5}}),
        ("PUT", f"/{stored}", {"json": {"name": 5}}),
        ("PUT", f"/{ULID()}", {"json": {"name": "nobody"}}),  # 404
        ("PUT", "/not-a-ulid", {"json": {"name": "x"}}),  # 400
        ("PUT", "/not-a-ulid", {"json": {"size": 1}}),  # the body's 422 first, as FastAPI
        ("GET", f"/{stored}", {}),
    ]
    answers = []
    for factory in (scoped_widget_manager, widget_manager):
        async with serve(builder().include_router(router(factory).router).build()) as client:
            answers.append([_comparable(await client.request(m, PREFIX + path, **kw)) for m, path, kw in requests])
    direct, fastapi = answers
    for request, mine, theirs in zip(requests, direct, fastapi, strict=True):
        assert mine == theirs, request
    assert [status for status, _, _ in direct[:4]] == [201, 201, 409, 422]
    assert direct[-1][2]["name"] == "renamed"  # the direct PUT was committed


async def test_a_body_route_calls_the_factory_once_per_request() -> None:
    calls.clear()
    async with serve(builder().include_router(router(scoped_widget_manager).router).build()) as client:
        created = (await client.post(PREFIX, json={"name": "a"})).json()
        assert (await client.post(PREFIX, json={"size": 1})).status_code == 422  # left to FastAPI
        assert (await client.put(f"{PREFIX}/{created['id']}", json={"name": "b"})).status_code == 200
    assert calls == ["POST", "POST", "PUT"]


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
            documents.append((await client.get("/openapi.json")).json()["paths"])
    scoped_paths, plain_paths = documents
    assert scoped_paths[PREFIX]["post"] == plain_paths[PREFIX]["post"]
    scoped, plain = scoped_paths[PREFIX + "/{entity_id}"], plain_paths[PREFIX + "/{entity_id}"]
    for method in ("get", "delete", "put"):
        assert scoped[method]["parameters"] == plain[method]["parameters"]
        assert scoped[method]["responses"] == plain[method]["responses"]
    assert scoped["put"]["requestBody"] == plain["put"]["requestBody"]


async def test_a_route_with_dependencies_of_its_own_runs_them() -> None:
    async def refuse() -> None:
        raise HTTPException(status_code=403, detail="no")

    crud = router(scoped_widget_manager, dependencies=[Depends(refuse)])
    async with serve(builder().include_router(crud.router).build()) as client:
        assert (await client.get(f"{PREFIX}/{ULID()}")).status_code == 403
        assert (await client.delete(f"{PREFIX}/{ULID()}")).status_code == 403
        assert (await client.post(PREFIX, json={"name": "a"})).status_code == 403
        assert (await client.put(f"{PREFIX}/{ULID()}", json={"name": "a"})).status_code == 403


ML_PLAIN = "/api/v1/ml-plain"
"""The same ML manager served by FastAPI's handler: an `MLRouter` on the public `get_ml_manager`."""


def _accepted(response: Any) -> tuple[int, str, Any]:
    """Status, media type and body of an answer, the ids a new job gets replaced by their names."""
    body = response.json() if response.content else None
    if response.status_code == 202:
        body = sorted(body)
    return response.status_code, response.headers.get("content-type", ""), body


async def test_ml_submissions_answer_as_fastapi_ones_do_whatever_the_body(monkeypatch: Any) -> None:
    """`$train` and `$predict` on the built-in manager are direct: the same answers, no dependency solving."""
    solved: list[str] = []
    solve = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    plain = MLRouter.create(prefix=ML_PLAIN, tags=["ML"], manager_factory=get_ml_manager)
    async with (
        serve(ml_service("memory://").build()) as client,
        serve(ml_service("memory://").include_router(plain).build()) as both,
    ):
        config_id = await create_config(client)
        data = frame(["x", "y"], [[1.0, 2.0], [2.0, 4.1]])
        trained = (await client.post(f"{ML}/$train", json={"config_id": config_id, "data": data})).json()
        assert (await wait_for_job(client, trained["job_id"]))["status"] == "completed"
        assert solved == [f"/api/v1/jobs/{trained['job_id']}"] * len(solved)  # the train was direct
        model = trained["artifact_id"]
        future = frame(["x"], [[3.0]])
        requests: list[tuple[str, dict[str, Any]]] = [
            ("$train", {"json": {"config_id": config_id, "data": data}}),
            ("$train", {"json": {"config_id": str(ULID()), "data": data}}),  # accepted: the job fails
            ("$train", {"json": {"config_id": config_id}}),
            ("$train", {"json": {"config_id": "nope", "data": data}}),
            ("$train", {"json": {"config_id": config_id, "data": {"columns": ["x", "x"], "data": [[1, 2]]}}}),
            ("$train", {"json": [1, 2]}),
            ("$train", {"content": b'{"config_id": ', "headers": {"content-type": "application/json"}}),
            ("$train", {"content": b"", "headers": {"content-type": "application/json"}}),
            ("$train", {"content": b'{"config_id": "x"}', "headers": {"content-type": "text/plain"}}),
            ("$train", {"content": b'{"config_id": "x"}'}),  # no content type
            ("$predict", {"json": {"model_artifact_id": model, "historic": data, "future": future}}),
            ("$predict", {"json": {"artifact_id": model, "historic": data, "future": future}}),
            ("$predict", {"json": {"artifact_id": model, "model_artifact_id": model, "historic": data}}),
            ("$predict", {"json": {"historic": data, "future": future}}),
            ("$predict", {"json": {"model_artifact_id": model, "historic": data, "future": {"columns": ["x"]}}}),
        ]
        direct, fastapis, solved_for = [], [], []
        for op, kw in requests:
            before = len(solved)
            direct.append(_accepted(await client.post(f"{ML}/{op}", **kw)))
            solved_for.append(len(solved) - before)
            fastapis.append(_accepted(await both.post(f"{ML_PLAIN}/{op}", **kw)))
    for request, mine, theirs in zip(requests, direct, fastapis, strict=True):
        assert mine == theirs, request
    assert [status for status, _, _ in direct] == [202, 202, 422, 422, 422, 422, 422, 422, 422, 422, 202, 202] + [
        422
    ] * 3
    # FastAPI solved nothing for the requests served directly (it solves those it refuses itself).
    assert [count for count, (status, _, _) in zip(solved_for, direct, strict=True) if status == 202] == [0] * 4
