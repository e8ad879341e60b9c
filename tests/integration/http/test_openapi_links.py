"""OpenAPI links: every service documents what follows from the ids its responses return."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from chapkit.adapters.http.openapi_links import add_links
from chapkit.demo.main_service import build_main_app
from tests.integration.http.conftest import serve

CONFIGS = "/api/v1/configs"
ARTIFACT = "/api/v1/artifacts/{entity_id}"


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation by its operationId: (method, path, definition)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            found[operation["operationId"]] = (method, path, operation)
    return found


def links(document: dict[str, Any], method: str, path: str, status: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The links of one response, by (method, path) of their targets (the link itself last)."""
    by_id = operations(document)
    response = document["paths"][path][method]["responses"][status]
    return {name: (*by_id[link["operationId"]][:2], link) for name, link in response.get("links", {}).items()}


def targets(document: dict[str, Any], method: str, path: str, status: str) -> set[tuple[str, str]]:
    return {(target[0], target[1]) for target in links(document, method, path, status).values()}


def test_the_links_lead_from_a_config_to_a_deleted_prediction() -> None:
    """Create a config -> train with it -> predict in either generation -> download -> delete."""
    document = build_main_app("memory://").openapi()
    validate(document)

    from_config = links(document, "post", CONFIGS, "201")
    train = [link for method, path, link in from_config.values() if path == "/api/v1/ml/$train"]
    assert train == [{"operationId": train[0]["operationId"], "requestBody": {"config_id": "$response.body#/id"}}]
    assert {("get", f"{CONFIGS}/{{entity_id}}"), ("delete", f"{CONFIGS}/{{entity_id}}")} <= targets(
        document, "post", CONFIGS, "201"
    )

    to_predict = [link for _, path, link in links(document, "post", "/api/v1/ml/$train", "202").values()]
    bodies = [link["requestBody"] for link in to_predict if "requestBody" in link and "historic" in link["requestBody"]]
    # One whole body per generation: the newer names the model `artifact_id`, the reference `model_artifact_id`.
    assert sorted(bodies, key=str) == [
        {
            "artifact_id": "$response.body#/artifact_id",
            "historic": "$request.body#/data",
            "future": "$request.body#/data",
        },
        {
            "model_artifact_id": "$response.body#/artifact_id",
            "historic": "$request.body#/data",
            "future": "$request.body#/data",
        },
    ]
    assert all(link["x-schemathesis"] == {"merge_body": False} for link in to_predict if "historic" in str(link))
    assert ("get", "/api/v1/jobs/{job_id}") in targets(document, "post", "/api/v1/ml/$train", "202")

    from_predict = links(document, "post", "/api/v1/ml/$predict", "202")
    download = [link for _, path, link in from_predict.values() if path == f"{ARTIFACT}/$download"]
    assert download and download[0]["parameters"] == {"path.entity_id": "$response.body#/artifact_id"}
    after_download = links(document, "get", f"{ARTIFACT}/$download", "200")
    assert [link["parameters"] for method, path, link in after_download.values() if method == "delete"] == [
        {"path.entity_id": "$request.path.entity_id"}
    ]


def test_every_link_names_an_operation_and_its_parameters_and_no_stream() -> None:
    document = build_main_app("memory://").openapi()
    by_id = operations(document)
    count = 0
    for path, item in document["paths"].items():
        for operation in item.values():
            for status, response in operation["responses"].items():
                for link in response.get("links", {}).values():
                    count += 1
                    assert status.startswith("2") and not path.endswith("/$stream")
                    method, target, definition = by_id[link["operationId"]]
                    assert not target.endswith("/$stream")
                    names = {parameter["name"] for parameter in definition.get("parameters", [])}
                    assert {name.removeprefix("path.") for name in link.get("parameters", {})} <= names
                    if "requestBody" in link:
                        assert "requestBody" in definition, (method, target)
    assert count > 50


def test_links_follow_the_naming_convention_only() -> None:
    """A collection is a path with item routes; ids refer to it by its singular; nothing else is linked."""
    item = {"operationId": "get_thing", "responses": {"200": {"description": "ok"}}}
    document: dict[str, Any] = {
        "paths": {
            "/things": {
                "post": {
                    "operationId": "create_thing",
                    "responses": {
                        "201": {
                            "description": "created",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                        }
                    },
                }
            },
            "/things/{thing_id}": {"get": item},
            "/other": {"get": {"operationId": "other", "responses": {"200": {"description": "ok"}}}},
        },
        "components": {"schemas": {"Thing": {"type": "object", "properties": {"id": {"type": "string"}}}}},
    }
    add_links(document)
    created = document["paths"]["/things"]["post"]["responses"]["201"]["links"]
    assert created == {
        "get_thing_by_id": {"operationId": "get_thing", "parameters": {"path.thing_id": "$response.body#/id"}}
    }
    assert "links" not in document["paths"]["/other"]["get"]["responses"]["200"]


async def test_the_demo_config_refuses_what_its_schema_calls_no_number() -> None:
    async with serve(build_main_app("memory://")) as client:
        for data in ({"ridge": "1"}, {"samples": "5"}, {"ridge": True}, {"samples": 2.5}):
            response = await client.post(CONFIGS, json={"name": "c", "data": data})
            assert response.status_code == 422, (data, response.text)
        for data in ({"ridge": 1}, {"samples": 5.0}):
            assert (await client.post(CONFIGS, json={"name": "c", "data": data})).status_code == 201
