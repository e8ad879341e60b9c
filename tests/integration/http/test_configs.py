"""The config API of a `ServiceBuilder` service: CRUD, schema validation, input bounds, artifact linking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from openapi_spec_validator import validate
from ulid import ULID

from chapkit import (
    ArtifactHierarchy,
    BaseConfig,
    ConfigManager,
    CrudPermissions,
    ServiceBuilder,
    ServiceInfo,
    get_config_manager,
)
from chapkit.domain.data_bounds import MAX_CONFIG_DATA_BYTES, MAX_DATA_DEPTH, MAX_NAME_LENGTH
from tests.integration.http.conftest import serve

CONFIGS = "/api/v1/configs"
ARTIFACTS = "/api/v1/artifacts"
PROBLEM = "application/problem+json"
HIERARCHY = ArtifactHierarchy(name="ml", level_labels={0: "train", 1: "predict"})


class ModelConfig(BaseConfig):
    epochs: int
    rate: float = 0.1


def service(url: str, *, linking: bool = True, **config_options: Any) -> ServiceBuilder:
    builder = ServiceBuilder(info=ServiceInfo(display_name="Configs")).with_database(url)
    builder.with_config(ModelConfig, **config_options)
    return builder.with_artifacts(hierarchy=HIERARCHY, enable_config_linking=linking)


@pytest.fixture
def url(storage_url: str) -> str:
    return storage_url


@pytest.fixture
async def client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(service(url).build()) as client:
        yield client


def problem(response: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    if status == 422:  # FastAPI's request validation keeps its own body: a `detail` list (D14)
        assert isinstance(body["detail"], list) and body["detail"]
        return body
    assert response.headers["content-type"] == PROBLEM
    assert isinstance(body["detail"], str | list) and body["detail"]
    if kind is not None:
        assert body["type"] == f"urn:chapkit:error:{kind}"
    return body


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


async def create_config(client: httpx.AsyncClient, name: str = "c", **data: Any) -> dict[str, Any]:
    response = await client.post(CONFIGS, json={"name": name, "data": {"epochs": 1, **data}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def create_artifact(client: httpx.AsyncClient, data: Any = "x", parent: str | None = None) -> str:
    response = await client.post(ARTIFACTS, json={"data": data, "parent_id": parent})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_config_crud_with_data_as_a_plain_object(client: httpx.AsyncClient) -> None:
    created = await create_config(client, "first", note="extra fields are kept")
    assert created["data"] == {"epochs": 1, "rate": 0.1, "note": "extra fields are kept"}
    config_id = created["id"]
    assert (await client.get(f"{CONFIGS}/{config_id}")).json() == created

    updated = await client.put(f"{CONFIGS}/{config_id}", json={"name": "renamed", "data": {"epochs": 5}})
    assert updated.status_code == 200
    assert updated.json()["name"] == "renamed" and updated.json()["data"] == {"epochs": 5, "rate": 0.1}
    assert updated.json()["created_at"] == created["created_at"]

    listed = await client.get(CONFIGS)
    assert [c["name"] for c in listed.json()] == ["renamed"]
    page = await client.get(CONFIGS, params={"page": 1, "size": 10})
    assert page.json()["total"] == 1

    assert (await client.delete(f"{CONFIGS}/{config_id}")).status_code == 204
    problem(await client.get(f"{CONFIGS}/{config_id}"), 404, "not-found")
    problem(await client.delete(f"{CONFIGS}/{config_id}"), 404, "not-found")
    problem(await client.get(f"{CONFIGS}/not-a-ulid"), 400, "invalid-ulid")


async def test_data_that_does_not_fit_the_schema_is_422(client: httpx.AsyncClient) -> None:
    problem(await client.post(CONFIGS, json={"name": "c", "data": {"rate": 0.5}}), 422)
    problem(await client.post(CONFIGS, json={"name": "c", "data": {"epochs": "many"}}), 422)
    problem(await client.post(CONFIGS, json={"name": "c"}), 422)
    assert (await client.get(CONFIGS)).json() == []


async def test_deeply_nested_data_is_refused_and_reads_keep_working(client: httpx.AsyncClient) -> None:
    await create_config(client, "ok")
    response = await client.post(CONFIGS, json={"name": "deep", "data": {"epochs": 1, "x": nested(500)}})
    assert 400 <= response.status_code < 500, response.text
    assert "nests deeper than" in response.text
    listed = await client.get(CONFIGS)
    assert listed.status_code == 200 and [c["name"] for c in listed.json()] == ["ok"]


async def test_deep_updates_and_bodies_deeper_than_the_json_parser_are_refused(client: httpx.AsyncClient) -> None:
    kept = await create_config(client, "kept")
    response = await client.put(
        f"{CONFIGS}/{kept['id']}", json={"name": "deep", "data": {"epochs": 2, "x": nested(500)}}
    )
    assert 400 <= response.status_code < 500 and "nests deeper than" in response.text
    deepest_body = '{"name": "d", "data": {"epochs": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    response = await client.post(CONFIGS, content=deepest_body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert (await client.get(f"{CONFIGS}/{kept['id']}")).json() == kept
    assert [c["name"] for c in (await client.get(CONFIGS)).json()] == ["kept"]


# JSON escapes that decode to a lone UTF-16 surrogate: storable, but no UTF-8 response could carry them.
UNENCODABLE_CONFIGS = [
    '{"name": "c", "data": {"epochs": 1, "note": "\\ud800"}}',
    '{"name": "c", "data": {"epochs": 1, "\\udc80": 1}}',
    '{"name": "c", "data": {"epochs": 1, "notes": [["ok", "\\udfff"]]}}',
    '{"name": "\\ud83d", "data": {"epochs": 1}}',
]


@pytest.mark.parametrize("body", UNENCODABLE_CONFIGS)
async def test_unencodable_text_is_refused_and_reads_keep_working(client: httpx.AsyncClient, body: str) -> None:
    kept = await create_config(client, "kept", note="\U0001f600 a pair of surrogates is fine")
    response = await client.post(CONFIGS, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500 and "not valid Unicode" in response.text, response.text
    response = await client.put(f"{CONFIGS}/{kept['id']}", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert (await client.get(f"{CONFIGS}/{kept['id']}")).json() == kept
    assert (await client.get(CONFIGS)).json() == [kept]
    assert (await client.get(CONFIGS, params={"page": 1, "size": 5})).json()["items"] == [kept]


async def test_names_longer_than_the_bound_are_refused(client: httpx.AsyncClient) -> None:
    await create_config(client, "n" * MAX_NAME_LENGTH)
    response = await client.post(CONFIGS, json={"name": "n" * 2_000_000, "data": {"epochs": 1}})
    problem(response, 422)
    assert [len(c["name"]) for c in (await client.get(CONFIGS)).json()] == [MAX_NAME_LENGTH]


async def test_data_at_the_depth_bound_is_stored_and_read_back(client: httpx.AsyncClient) -> None:
    deepest = nested(MAX_DATA_DEPTH - 1)
    created = await create_config(client, "deepest", x=deepest)
    fetched = await client.get(f"{CONFIGS}/{created['id']}")
    assert fetched.status_code == 200 and fetched.json()["data"]["x"] == deepest
    assert (await client.get(CONFIGS)).status_code == 200


async def test_oversized_data_is_refused(client: httpx.AsyncClient) -> None:
    data = {"epochs": 1, "blob": "x" * MAX_CONFIG_DATA_BYTES}
    response = await client.post(CONFIGS, json={"name": "big", "data": data})
    assert 400 <= response.status_code < 500 and "bytes as JSON" in response.text
    assert (await client.get(CONFIGS)).json() == []


async def test_config_names_are_not_unique(client: httpx.AsyncClient) -> None:
    await create_config(client, "same")
    await create_config(client, "same")
    assert [c["name"] for c in (await client.get(CONFIGS)).json()] == ["same", "same"]


async def test_link_unlink_and_list_linked_artifacts(client: httpx.AsyncClient) -> None:
    config_id = (await create_config(client))["id"]
    root = await create_artifact(client, "root")
    other_root = await create_artifact(client, "other")
    link = await client.post(f"{CONFIGS}/{config_id}/$link-artifact", json={"artifact_id": root})
    assert link.status_code == 204 and link.content == b""
    await client.post(f"{CONFIGS}/{config_id}/$link-artifact", json={"artifact_id": other_root})
    linked = await client.get(f"{CONFIGS}/{config_id}/$artifacts")
    assert linked.status_code == 200 and [a["id"] for a in linked.json()] == sorted([root, other_root])
    assert linked.json()[0]["level"] == 0

    unlink = await client.post(f"{CONFIGS}/{config_id}/$unlink-artifact", json={"artifact_id": other_root})
    assert unlink.status_code == 204
    assert [a["id"] for a in (await client.get(f"{CONFIGS}/{config_id}/$artifacts")).json()] == [root]
    # unlinking what is not linked is harmless
    again = await client.post(f"{CONFIGS}/{config_id}/$unlink-artifact", json={"artifact_id": other_root})
    assert again.status_code == 204


async def test_linking_errors_are_clear_4xx(client: httpx.AsyncClient) -> None:
    config_id = (await create_config(client, "one"))["id"]
    other_id = (await create_config(client, "two"))["id"]
    root = await create_artifact(client, "root")
    child = await create_artifact(client, "child", root)
    link = f"{CONFIGS}/{config_id}/$link-artifact"

    body = problem(await client.post(link, json={"artifact_id": child}), 400)
    assert "not a root" in body["detail"]
    problem(await client.post(link, json={"artifact_id": str(ULID())}), 400)
    problem(await client.post(link, json={"artifact_id": "not-a-ulid"}), 422)
    problem(await client.post(f"{CONFIGS}/{ULID()}/$link-artifact", json={"artifact_id": root}), 404, "not-found")
    problem(await client.post(f"{CONFIGS}/not-a-ulid/$link-artifact", json={"artifact_id": root}), 400, "invalid-ulid")

    assert (await client.post(link, json={"artifact_id": root})).status_code == 204
    assert (await client.post(link, json={"artifact_id": root})).status_code == 204  # the same link again
    problem(await client.post(f"{CONFIGS}/{other_id}/$link-artifact", json={"artifact_id": root}), 409, "conflict")
    unlink_elsewhere = f"{CONFIGS}/{other_id}/$unlink-artifact"
    problem(await client.post(unlink_elsewhere, json={"artifact_id": root}), 409, "conflict")
    problem(await client.get(f"{CONFIGS}/{ULID()}/$artifacts"), 404, "not-found")
    assert [a["id"] for a in (await client.get(f"{CONFIGS}/{config_id}/$artifacts")).json()] == [root]


async def test_deleting_a_config_deletes_its_linked_trees(client: httpx.AsyncClient) -> None:
    config_id = (await create_config(client))["id"]
    root = await create_artifact(client, "root")
    child = await create_artifact(client, "child", root)
    kept = await create_artifact(client, "kept")
    await client.post(f"{CONFIGS}/{config_id}/$link-artifact", json={"artifact_id": root})
    assert (await client.delete(f"{CONFIGS}/{config_id}")).status_code == 204
    problem(await client.get(f"{ARTIFACTS}/{child}"), 404)
    assert [a["id"] for a in (await client.get(ARTIFACTS)).json()] == [kept]


async def test_link_routes_exist_only_with_config_linking(url: str) -> None:
    async with serve(service(url, linking=False).build()) as client:
        config_id = (await create_config(client))["id"]
        root = await create_artifact(client)
        response = await client.post(f"{CONFIGS}/{config_id}/$link-artifact", json={"artifact_id": root})
        assert response.status_code in (404, 405)
        assert (await client.get(f"{ARTIFACTS}/{root}/$config")).status_code in (404, 405)
        assert "$link-artifact" not in str((await client.get("/openapi.json")).json()["paths"])


async def test_permissions_remove_routes(url: str) -> None:
    app = service(url, permissions=CrudPermissions(delete=False), allow_create=False).build()
    async with serve(app) as client:
        assert (await client.post(CONFIGS, json={"name": "c", "data": {"epochs": 1}})).status_code == 405
        assert (await client.get(CONFIGS)).status_code == 200
        assert (await client.delete(f"{CONFIGS}/{ULID()}")).status_code == 405


async def test_schema_route_and_a_valid_openapi_document(client: httpx.AsyncClient) -> None:
    schema = (await client.get(f"{CONFIGS}/$schema")).json()
    assert schema["properties"]["data"]["$ref"].endswith("ModelConfig")
    document = (await client.get("/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    for path in ("/{entity_id}/$link-artifact", "/{entity_id}/$unlink-artifact", "/{entity_id}/$artifacts"):
        assert CONFIGS + path in paths
    for path in ("/{entity_id}/$expand", "/{entity_id}/$tree", "/{entity_id}/$config"):
        assert ARTIFACTS + path in paths
    names = set(document["components"]["schemas"])
    assert not any("[" in name for name in names) and "ModelConfig" in names


async def test_custom_routes_get_a_manager_bound_to_the_service_schema(url: str) -> None:
    router = APIRouter()

    @router.get("/custom/epochs/{name}")
    async def epochs(name: str, manager: ConfigManager[BaseConfig] = Depends(get_config_manager)) -> int:
        config = await manager.find_by_name(name)
        assert config is not None and isinstance(config.data, ModelConfig)
        return config.data.epochs

    async with serve(service(url).include_router(router).build()) as client:
        await create_config(client, "named", epochs=7)
        assert (await client.get("/custom/epochs/named")).json() == 7


def test_config_linking_without_a_config_schema_is_refused() -> None:
    builder = ServiceBuilder(info=ServiceInfo(display_name="x")).with_artifacts(
        hierarchy=HIERARCHY, enable_config_linking=True
    )
    with pytest.raises(ValueError, match=r"Call `with_config\(...\)` before enabling config linking"):
        builder.build()


async def test_default_manager_dependencies_work_without_the_modules(url: str) -> None:
    from chapkit import ArtifactIn, ArtifactManager, BaseServiceBuilder, ConfigIn, get_artifact_manager

    router = APIRouter()

    @router.post("/custom/pair")
    async def pair(
        configs: ConfigManager[BaseConfig] = Depends(get_config_manager),
        artifacts: ArtifactManager = Depends(get_artifact_manager),
    ) -> dict[str, Any]:
        config = await configs.save(ConfigIn(name="free-form", data=BaseConfig.model_validate({"any": 1})))
        artifact = await artifacts.save(ArtifactIn(data="model"))
        await configs.link_artifact(config.id, artifact.id)
        tree = await artifacts.build_tree(artifact.id)
        assert tree is not None and tree.config is not None
        return {"config": tree.config.model_dump(mode="json")["data"], "label": tree.level_label}

    app = BaseServiceBuilder(info=ServiceInfo(display_name="plain")).with_database(url).include_router(router).build()
    async with serve(app) as client:
        response = await client.post("/custom/pair")
        assert response.status_code == 200, response.text
        assert response.json() == {"config": {"any": 1}, "label": None}


async def test_a_problems_instance_is_the_request_path(client: httpx.AsyncClient) -> None:
    tree = await client.get("/api/v1/artifacts/bad/$tree")
    assert tree.status_code == 400 and tree.json()["instance"] == "/api/v1/artifacts/bad/$tree"
    missing = f"/api/v1/configs/{ULID()}/$artifacts"
    assert (await client.get(missing)).json()["instance"] == missing
    unlink = f"/api/v1/configs/{ULID()}/$unlink-artifact"
    answered = await client.post(unlink, json={"artifact_id": str(ULID())})
    assert answered.status_code == 404 and answered.json()["instance"] == unlink
