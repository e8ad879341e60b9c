"""The artifact API of a `ServiceBuilder` service: CRUD, levels, `$expand`, `$tree`, `$config`, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi import APIRouter, Depends
from ulid import ULID

from chapkit import ArtifactIn, ArtifactManager, PandasDataFrame, ServiceBuilder, get_artifact_manager
from tests.integration.http.conftest import serve
from tests.integration.http.test_configs import (
    ARTIFACTS,
    CONFIGS,
    create_artifact,
    create_config,
    nested,
    problem,
    service,
)
from tests.support.artifacts import TrainedModel


@pytest.fixture
def url(storage_url: str) -> str:
    return storage_url


@pytest.fixture
async def client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(service(url).build()) as client:
        yield client


async def get(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_artifact_crud_and_levels(client: httpx.AsyncClient) -> None:
    root = await create_artifact(client, {"kind": "model"})
    response = await client.post(ARTIFACTS, json={"data": [1, 2], "parent_id": root, "level": 9})
    assert response.status_code == 201 and response.headers["location"].endswith(response.json()["id"])
    child = response.json()
    assert child["level"] == 1 and child["parent_id"] == root and child["data"] == [1, 2]
    assert (await get(client, f"{ARTIFACTS}/{root}"))["level"] == 0

    updated = await client.put(f"{ARTIFACTS}/{child['id']}", json={"data": {"v": 2}})
    assert updated.status_code == 200 and updated.json()["data"] == {"v": 2} and updated.json()["level"] == 1
    # A level is computed, never taken: not even one no column could hold reaches the database.
    for level in (7, -(2**70), 2**70):
        body = {"data": {"v": 3}, "parent_id": root, "level": level}
        updated = await client.put(f"{ARTIFACTS}/{child['id']}", json=body)
        assert updated.status_code == 200 and updated.json()["level"] == 1, updated.text
        created = await client.post(ARTIFACTS, json=body)
        assert created.status_code == 201 and created.json()["level"] == 1, created.text
        assert (await client.delete(f"{ARTIFACTS}/{created.json()['id']}")).status_code == 204
    assert [a["id"] for a in await get(client, ARTIFACTS)] == [root, child["id"]]


async def test_bad_parents_are_4xx(client: httpx.AsyncClient) -> None:
    problem(await client.post(ARTIFACTS, json={"data": 1, "parent_id": "not-a-ulid"}), 422)
    # An unknown parent is a conflict with what is stored (409), not a malformed request (D14).
    problem(await client.post(ARTIFACTS, json={"data": 1, "parent_id": str(ULID())}), 409, "conflict")
    for wrong in ([1], {"a": 1}, 1.5, -1, 2**200):
        problem(await client.post(ARTIFACTS, json={"data": 1, "parent_id": wrong}), 422)
        problem(await client.post(ARTIFACTS, json={"data": 1, "id": wrong}), 422)
    problem(await client.post(ARTIFACTS, json={"data": nested(200)}), 422)
    assert await get(client, ARTIFACTS) == []
    root = await create_artifact(client, "root")
    problem(await client.put(f"{ARTIFACTS}/{root}", json={"data": 1, "parent_id": "not-a-ulid"}), 422)
    problem(await client.put(f"{ARTIFACTS}/{root}", json={"data": 1, "parent_id": str(ULID())}), 409, "conflict")
    assert [(a["data"], a["parent_id"]) for a in await get(client, ARTIFACTS)] == [("root", None)]


@pytest.mark.parametrize("data", ['"\\ud800"', '{"k": ["\\udc80"]}', '{"\\udbff": 1}'])
async def test_unencodable_text_in_data_is_refused_and_reads_keep_working(client: httpx.AsyncClient, data: str) -> None:
    root = await create_artifact(client, {"emoji": "\U0001f600"})
    body = '{"data": ' + data + "}"
    response = await client.post(ARTIFACTS, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500 and "not valid Unicode" in response.text, response.text
    response = await client.put(f"{ARTIFACTS}/{root}", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert [a["data"] for a in await get(client, ARTIFACTS)] == [{"emoji": "\U0001f600"}]
    assert (await get(client, f"{ARTIFACTS}/{root}/$tree"))["data"] == {"emoji": "\U0001f600"}


async def test_deleting_an_artifact_deletes_its_subtree(client: httpx.AsyncClient) -> None:
    root = await create_artifact(client, "root")
    child = await create_artifact(client, "child", root)
    leaf = await create_artifact(client, "leaf", child)
    sibling = await create_artifact(client, "sibling", root)
    assert (await client.delete(f"{ARTIFACTS}/{child}")).status_code == 204
    problem(await client.get(f"{ARTIFACTS}/{leaf}"), 404, "not-found")
    assert [a["id"] for a in await get(client, ARTIFACTS)] == [root, sibling]


async def test_moving_an_artifact_relevels_it_and_refuses_cycles(client: httpx.AsyncClient) -> None:
    root = await create_artifact(client, "root")
    a = await create_artifact(client, "a", root)
    b = await create_artifact(client, "b", a)
    c = await create_artifact(client, "c", b)
    body = problem(await client.put(f"{ARTIFACTS}/{a}", json={"data": "a", "parent_id": c}), 409, "conflict")
    assert "descendants" in body["detail"]
    problem(await client.put(f"{ARTIFACTS}/{a}", json={"data": "a", "parent_id": a}), 409, "conflict")
    moved = await client.put(f"{ARTIFACTS}/{b}", json={"data": "b", "parent_id": root})
    assert moved.status_code == 200 and moved.json()["level"] == 1
    assert (await get(client, f"{ARTIFACTS}/{c}"))["level"] == 2
    tree = await get(client, f"{ARTIFACTS}/{root}/$tree")
    assert sorted(child["data"] for child in tree["children"]) == ["a", "b"]


async def test_expand_and_tree(client: httpx.AsyncClient) -> None:
    root = await create_artifact(client, "root")
    child = await create_artifact(client, "child", root)
    leaf = await create_artifact(client, "leaf", child)

    expanded = await get(client, f"{ARTIFACTS}/{root}/$expand")
    assert expanded["children"] is None and expanded["level_label"] == "train" and expanded["hierarchy"] == "ml"
    assert expanded["config"] is None

    tree = await get(client, f"{ARTIFACTS}/{root}/$tree")
    assert tree["id"] == root and tree["level_label"] == "train" and tree["config"] is None
    [child_node] = tree["children"]
    assert child_node["id"] == child and child_node["level_label"] == "predict"
    [leaf_node] = child_node["children"]
    assert leaf_node["id"] == leaf and leaf_node["children"] == [] and leaf_node["level_label"] == "level_2"
    subtree = await get(client, f"{ARTIFACTS}/{child}/$tree")
    assert subtree["id"] == child and subtree["children"][0]["id"] == leaf

    for operation in ("$expand", "$tree"):
        problem(await client.get(f"{ARTIFACTS}/{ULID()}/{operation}"), 404, "not-found")
        problem(await client.get(f"{ARTIFACTS}/bad/{operation}"), 400, "invalid-ulid")


async def test_tree_of_a_chain_deeper_than_json_serializers_nest(client: httpx.AsyncClient, url: str) -> None:
    parent = None
    ids = []
    for step in range(300):
        parent = await create_artifact(client, step, parent)
        ids.append(parent)
    response = await client.get(f"{ARTIFACTS}/{ids[0]}/$tree")
    assert response.status_code == 200
    node, depth = response.json(), 0
    while node["children"]:
        [node] = node["children"]
        depth += 1
    assert depth == 299 and node["id"] == ids[-1] and node["level"] == 299


async def test_config_of_an_artifact_walks_to_the_root(client: httpx.AsyncClient) -> None:
    config = await create_config(client, "linked", epochs=3)
    root = await create_artifact(client, "root")
    child = await create_artifact(client, "child", root)
    leaf = await create_artifact(client, "leaf", child)
    lonely = await create_artifact(client, "lonely")
    await client.post(f"{CONFIGS}/{config['id']}/$link-artifact", json={"artifact_id": root})

    for artifact in (root, child, leaf):
        found = await get(client, f"{ARTIFACTS}/{artifact}/$config")
        assert found["id"] == config["id"] and found["data"] == {"epochs": 3, "rate": 0.1}
    tree = await get(client, f"{ARTIFACTS}/{root}/$tree")
    assert tree["config"]["id"] == config["id"] and tree["children"][0]["config"] is None
    assert (await get(client, f"{ARTIFACTS}/{root}/$expand"))["config"]["name"] == "linked"

    body = problem(await client.get(f"{ARTIFACTS}/{lonely}/$config"), 404, "not-found")
    assert "No config" in body["detail"]
    problem(await client.get(f"{ARTIFACTS}/{ULID()}/$config"), 404, "not-found")
    problem(await client.get(f"{ARTIFACTS}/not-a-ulid/$config"), 400, "invalid-ulid")


async def test_a_linked_root_cannot_be_moved_under_a_parent(client: httpx.AsyncClient) -> None:
    config = await create_config(client)
    root = await create_artifact(client, "root")
    other = await create_artifact(client, "other")
    await client.post(f"{CONFIGS}/{config['id']}/$link-artifact", json={"artifact_id": root})
    problem(await client.put(f"{ARTIFACTS}/{root}", json={"data": "root", "parent_id": other}), 409, "conflict")


async def test_dataframes_round_trip_over_http(client: httpx.AsyncClient) -> None:
    frame = pd.DataFrame({"region": ["a", "b"], "cases": [3, 5]})
    artifact = await create_artifact(client, PandasDataFrame.from_dataframe(frame).model_dump())
    data = (await get(client, f"{ARTIFACTS}/{artifact}"))["data"]
    pd.testing.assert_frame_equal(PandasDataFrame.model_validate(data).to_dataframe(), frame)


async def test_python_objects_come_back_as_json_safe_metadata(url: str) -> None:
    router = APIRouter()

    @router.post("/custom/models")
    async def store_model(manager: ArtifactManager = Depends(get_artifact_manager)) -> str:
        saved = await manager.save(ArtifactIn(data={"model": TrainedModel([0.25]), "score": 1}))
        return str(saved.id)

    builder: ServiceBuilder = service(url).include_router(router)
    async with serve(builder.build()) as client:
        artifact_id = (await client.post("/custom/models")).json()
        data = (await get(client, f"{ARTIFACTS}/{artifact_id}"))["data"]
        assert data["score"] == 1
        assert data["model"]["_type"] == "TrainedModel"
        assert data["model"]["_module"] == "tests.support.artifacts"
        assert data["model"]["_repr"] == "TrainedModel(weights=[0.25])"
        assert data["model"]["_serialization_error"]
        tree = await get(client, f"{ARTIFACTS}/{artifact_id}/$tree")
        assert tree["data"]["model"]["_type"] == "TrainedModel" and tree["level_label"] == "train"


async def test_a_boolean_level_is_a_422_not_a_level(client: httpx.AsyncClient) -> None:
    response = await client.post(ARTIFACTS, json={"data": 1, "level": True})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "level"
    assert (await client.get(ARTIFACTS)).json() == []


def test_tree_operations_document_their_ids_as_ulids_and_their_problems() -> None:
    paths = service("memory://").build().openapi()["paths"]
    for path, method in [
        (f"{ARTIFACTS}/{{entity_id}}/$tree", "get"),
        (f"{ARTIFACTS}/{{entity_id}}/$expand", "get"),
        (f"{ARTIFACTS}/{{entity_id}}/$config", "get"),
        (f"{CONFIGS}/{{entity_id}}/$artifacts", "get"),
        (f"{CONFIGS}/{{entity_id}}/$link-artifact", "post"),
    ]:
        operation = paths[path][method]
        [parameter] = [p for p in operation["parameters"] if p["name"] == "entity_id"]
        assert parameter["schema"]["pattern"] and parameter["schema"]["minLength"] == 26, path
        assert {"400", "404"} <= set(operation["responses"]), path
