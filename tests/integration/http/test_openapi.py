"""The OpenAPI document: valid OpenAPI 3, generic schema names cleaned, `$ref`s pointing at them."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from chapkit import CrudRouter
from tests.integration.http.conftest import builder, serve, widget_manager
from tests.integration.http.ml_support import wait_for_job
from tests.support.models import WidgetIn, WidgetOut


class GadgetOut(WidgetOut):
    """A second output type, so two PaginatedResponse schemas exist."""


def full_app() -> Any:
    widgets = CrudRouter("/api/v1/widgets", ["Widgets"], WidgetIn, WidgetOut, widget_manager)
    gadgets = CrudRouter("/api/v1/gadgets", ["Gadgets"], WidgetIn, GadgetOut, widget_manager)
    return (
        builder()
        .with_health()
        .with_system()
        .with_jobs()
        .with_landing_page()
        .include_router(widgets.router)
        .include_router(gadgets.router)
        .build()
    )


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


async def test_document_is_valid_openapi_3_with_clean_names() -> None:
    async with serve(full_app()) as client:
        document = (await client.get("/openapi.json")).json()
    validate(document)
    names = set(document["components"]["schemas"])
    assert not any("[" in name or "]" in name for name in names)
    assert {"PaginatedResponse_WidgetOut", "PaginatedResponse_GadgetOut", "PaginatedResponse_JobRecord"} <= names
    for ref in refs(document):
        assert ref.removeprefix("#/components/schemas/") in names, ref
    titles = [schema.get("title", "") for schema in document["components"]["schemas"].values()]
    assert not any("[" in title for title in titles), titles


async def test_a_single_generic_keeps_its_plain_name() -> None:
    widgets = CrudRouter("/api/v1/widgets", ["Widgets"], WidgetIn, WidgetOut, widget_manager)
    app = builder().include_router(widgets.router).build()
    document = app.openapi()
    validate(document)
    assert "PaginatedResponse" in document["components"]["schemas"]
    assert app.openapi() is document  # built once


async def test_documented_routes() -> None:
    document = full_app().openapi()
    paths = document["paths"]
    for path in (
        "/health",
        "/health/$stream",
        "/api/v1/system",
        "/api/v1/system/apps",
        "/api/v1/system/apps/$schema",
        "/api/v1/jobs",
        "/api/v1/jobs/$schema",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/$stream",
        "/api/v1/info",
        "/api/v1/widgets",
        "/api/v1/widgets/$schema",
        "/api/v1/widgets/{entity_id}",
    ):
        assert path in paths, path
    page = paths["/api/v1/widgets"]["get"]["parameters"]
    assert {p["name"]: p["schema"]["anyOf"][0].get("maximum") for p in page} == {"page": 2**53, "size": 100}


def test_every_id_has_one_shape_in_the_openapi_document() -> None:
    """Request fields, response fields and path parameters of configs, artifacts, jobs and custom entities."""
    from chapkit.demo.main_service import build_main_app
    from chapkit.domain.ids import ULID_JSON_SCHEMA

    document = build_main_app("memory://").openapi()
    shapes: dict[str, list[str]] = {}

    def core(schema: dict[str, Any]) -> dict[str, Any]:
        branches = [branch for branch in schema.get("anyOf", [schema]) if branch.get("type") != "null"]
        assert len(branches) == 1, schema
        return {key: branches[0][key] for key in ("type", "pattern", "minLength", "maxLength") if key in branches[0]}

    for name, component in document["components"]["schemas"].items():
        if name == "Feature":  # a GeoJSON feature's id is the data's own (any string or number), not a chapkit id
            continue
        if name == "MLServiceInfo":  # a service's id is the slug chap-core keys its registry by, not a chapkit id
            assert component["properties"]["id"]["pattern"] == "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
            continue
        for field, schema in component.get("properties", {}).items():
            if field == "id" or (field.endswith("_id") and field != "trace_id"):  # trace_id: a request id
                shapes.setdefault(json.dumps(core(schema), sort_keys=True), []).append(f"{name}.{field}")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    shapes.setdefault(json.dumps(core(parameter["schema"]), sort_keys=True), []).append(
                        f"{method.upper()} {path} {parameter['name']}"
                    )
    assert list(shapes) == [json.dumps(ULID_JSON_SCHEMA, sort_keys=True)], shapes


async def test_the_ml_request_examples_are_accepted_and_their_jobs_say_why_they_fail() -> None:
    """The documented examples are well formed; their ids name nothing stored, so each job fails (D14)."""
    from chapkit.demo.main_service import build_main_app

    app = build_main_app("memory://")
    async with serve(app) as client:
        document = (await client.get("/openapi.json")).json()
        for path, status in (("/api/v1/ml/$train", 202), ("/api/v1/ml/$predict", 202), ("/api/v1/ml/$validate", 200)):
            examples = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["examples"]
            assert examples
            for example in examples.values():
                response = await client.post(path, json=example["value"])
                assert response.status_code == status, response.text
                if status == 200:
                    assert response.json()["valid"] is False
                    continue
                record = await wait_for_job(client, response.json()["job_id"])
                assert record["status"] == "failed" and "not found" in record["error"], record
