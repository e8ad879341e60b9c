"""Request bodies at the boundary: the size limit (413), and text that cannot be stored (NUL, lone surrogates: 400)."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import APIRouter

from chapkit import ArtifactHierarchy, BaseConfig, ServiceBuilder, ServiceInfo
from chapkit.adapters.http.request_body import RequestBodyMiddleware, has_lone_surrogate
from tests.integration.http.conftest import builder as plain_builder
from tests.integration.http.conftest import emptied_postgres_url, serve
from tests.integration.http.ml_support import ML, ml_service

JSON = {"content-type": "application/json"}
PROBLEM = "application/problem+json"


class ModelConfig(BaseConfig):
    epochs: int
    rate: float = 0.1


def service(url: str, **options: Any) -> ServiceBuilder:
    builder = ServiceBuilder(info=ServiceInfo(display_name="Bodies"), **options).with_database(url)
    return builder.with_config(ModelConfig).with_artifacts(hierarchy=ArtifactHierarchy(name="ml"))


@pytest.fixture(params=["memory", "sqlite_file"])
def url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    return "memory://" if request.param == "memory" else f"sqlite+aiosqlite:///{tmp_path / 'bodies.db'}"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/configs", b'{"name": "a\\ud800b", "data": {"epochs": 1}}'),
        ("/api/v1/configs", b'{"name": "ok", "data": {"epochs": 1, "key\\uDC00": 2}}'),
        ("/api/v1/configs", b'{"name": "\\ude00\\ud83d", "data": {"epochs": 1}}'),  # a pair in the wrong order
        ("/api/v1/artifacts", b'{"data": {"nested": ["\\ud800"]}}'),
    ],
)
async def test_lone_surrogates_are_a_400_problem_and_nothing_is_stored(url: str, path: str, body: bytes) -> None:
    async with serve(service(url).build()) as client:
        response = await client.post(path, content=body, headers=JSON)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "urn:chapkit:error:bad-request"
        assert "surrogate" in response.json()["detail"]
        listing = await client.get(path)
        assert listing.status_code == 200 and listing.json() == []


async def test_pairs_and_escaped_backslashes_are_valid_text(url: str) -> None:
    async with serve(service(url).build()) as client:
        paired = await client.post(
            "/api/v1/configs", content=b'{"name": "\\ud83d\\ude00", "data": {"epochs": 1}}', headers=JSON
        )
        assert paired.status_code == 201 and paired.json()["name"] == "\U0001f600"
        literal = await client.post(
            "/api/v1/configs", content=b'{"name": "\\\\ud800", "data": {"epochs": 1}}', headers=JSON
        )
        assert literal.status_code == 201 and literal.json()["name"] == "\\ud800"


async def test_an_escape_split_across_body_chunks_is_caught(url: str) -> None:
    body = b'{"name": "' + b"x" * 95 + b'\\ud800", "data": {"epochs": 1}}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 100):  # the escape straddles the first chunk boundary
            yield body[start : start + 100]

    async with serve(service(url).build()) as client:
        response = await client.post("/api/v1/configs", content=chunks(), headers=JSON)
        assert response.status_code == 400
        assert (await client.get("/api/v1/configs")).json() == []


async def test_without_error_handlers_the_answer_is_still_a_400() -> None:
    router = APIRouter()

    @router.post("/echo")
    async def echo(payload: dict[str, str]) -> dict[str, str]:
        return payload

    app = service("memory://", include_error_handlers=False).include_router(router).build()
    async with serve(app) as client:
        response = await client.post("/echo", content=b'{"a": "\\udfff"}', headers=JSON)
        assert response.status_code == 400 and "surrogate" in response.json()["detail"]
        assert (await client.post("/echo", content=b"not json \\ud800", headers=JSON)).status_code == 422


def test_has_lone_surrogate_looks_into_keys_and_nested_values() -> None:
    assert has_lone_surrogate({"a": ["b", {"c": "\ud800"}]})
    assert has_lone_surrogate({"\udc00": 1})
    assert not has_lone_surrogate({"a": ["\U0001f600", 1.5, None]})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/configs", b'{"name": "nul \\u0000 byte", "data": {"epochs": 1}}'),
        ("/api/v1/configs", b'{"name": "ok", "data": {"epochs": 1, "note": "a\\u0000"}}'),
        ("/api/v1/configs", b'{"name": "ok", "data": {"epochs": 1, "\\u0000": 2}}'),
        ("/api/v1/artifacts", b'{"data": {"nested": [["\\u0000"]]}}'),
    ],
)
async def test_nul_characters_are_a_400_problem_on_every_backend(storage_url: str, path: str, body: bytes) -> None:
    # PostgreSQL cannot store NUL in text or JSON: every backend refuses it the same way, before storing.
    async with serve(service(storage_url).build()) as client:
        response = await client.post(path, content=body, headers=JSON)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "urn:chapkit:error:bad-request"
        assert "NUL character" in response.json()["detail"]
        assert (await client.get(path)).json() == []


async def test_a_nul_escape_split_across_tiny_chunks_is_caught_and_a_literal_backslash_u0000_is_text(url: str) -> None:
    body = b'{"name": "x\\u0000", "data": {"epochs": 1}}'

    async def one_byte_at_a_time() -> AsyncIterator[bytes]:
        for index in range(len(body)):
            yield body[index : index + 1]

    async with serve(service(url).build()) as client:
        response = await client.post("/api/v1/configs", content=one_byte_at_a_time(), headers=JSON)
        assert response.status_code == 400 and "NUL" in response.json()["detail"]
        literal = await client.post(
            "/api/v1/configs", content=b'{"name": "\\\\u0000", "data": {"epochs": 1}}', headers=JSON
        )
        assert literal.status_code == 201 and literal.json()["name"] == "\\u0000"
        assert [config["name"] for config in (await client.get("/api/v1/configs")).json()] == ["\\u0000"]


async def test_values_postgresql_cannot_store_are_a_400_problem(request: pytest.FixtureRequest) -> None:
    # Emptied first: earlier tests of the run leave rows of other schemas in the shared database.
    async with serve(service(await emptied_postgres_url(request)).build()) as client:
        # infinity is no JSON value for JSONB
        body = b'{"name": "overflow", "data": {"epochs": 1, "rate": 1e400}}'
        response = await client.post("/api/v1/configs", content=body, headers=JSON)
        assert response.status_code == 400 and response.headers["content-type"] == PROBLEM, response.text
        assert response.json()["type"] == "urn:chapkit:error:validation-failed"
        assert (await client.get("/api/v1/configs")).json() == []


@pytest.mark.parametrize(
    ("body", "loc", "echoed"),
    [
        (b'{"name": "o", "data": {"epochs": 1e400}}', ["body", "data", "epochs"], "Infinity"),
        (b'{"name": "o", "data": {"epochs": NaN}}', ["body", "data", "epochs"], "NaN"),
        (b'{"name": -Infinity, "data": {"epochs": 1}}', ["body", "name"], "-Infinity"),
    ],
)
async def test_numbers_json_cannot_encode_are_a_422_not_a_500(body: bytes, loc: list[str], echoed: str) -> None:
    async with serve(service("memory://").build()) as client:
        response = await client.post("/api/v1/configs", content=body, headers=JSON)
        assert response.status_code == 422 and response.headers["content-type"] == "application/json"
        [error] = response.json()["detail"]
        assert (error["loc"], error["input"]) == (loc, echoed)
        assert (await client.get("/api/v1/configs")).json() == []


async def test_a_non_finite_number_deep_inside_a_refused_body_is_a_422() -> None:
    body = b'{"name": "o", "data": {"epochs": 1, "x": ' + b'{"a": ' * 500 + b"NaN" + b"}" * 500 + b"}}"
    async with serve(service("memory://").build()) as client:
        response = await client.post("/api/v1/configs", content=body, headers=JSON)
        assert response.status_code == 422, response.text
        assert "nests deeper than" in response.text
        assert response.json()["detail"][0]["input"].endswith("characters, truncated)")


# ---------------------------------------------------------------- the body limit


async def _chunks(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("streamed", [False, True])
async def test_the_environment_sets_the_limit_on_every_route_ml_included(
    monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    monkeypatch.setenv("CHAPKIT_MAX_BODY_BYTES", "5000")
    frame = {"columns": ["x", "y"], "data": [[float(i), 2.0 * i] for i in range(1000)]}
    big = json.dumps({"config_id": "01K0000000000000000000000Z", "data": frame}).encode()
    async with serve(ml_service("memory://").build()) as client:
        for path in (f"{ML}/$train", f"{ML}/$validate", "/api/v1/configs", "/api/v1/artifacts"):
            content = _chunks(big) if streamed else big
            response = await client.post(path, content=content, headers=JSON)
            assert response.status_code == 413, (path, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["detail"] == "Request body exceeds the limit of 5000 bytes"
        small = {"config_id": "01K0000000000000000000000Z", "data": {"columns": ["x"], "data": [[1.0]]}}
        assert (await client.post(f"{ML}/$train", json=small)).status_code == 202
        assert (await client.get("/api/v1/artifacts")).json() == []


def test_the_builder_setting_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAPKIT_MAX_BODY_BYTES", "5000")
    assert _limit_of(plain_builder().with_request_size_limit(70_000).build()) == 70_000
    assert _limit_of(plain_builder().with_request_size_limit(None).build()) is None
    assert _limit_of(plain_builder().build()) == 5000
    monkeypatch.setenv("CHAPKIT_MAX_BODY_BYTES", "1_048_576")
    assert _limit_of(plain_builder().build()) == 1_048_576
    monkeypatch.delenv("CHAPKIT_MAX_BODY_BYTES")
    assert _limit_of(plain_builder().build()) == 64 * 1024 * 1024


@pytest.mark.parametrize("value", ["0", "-5", "64MB", "1.5"])
def test_a_limit_in_the_environment_that_is_no_positive_number_stops_the_build(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CHAPKIT_MAX_BODY_BYTES", value)
    with pytest.raises(ValueError, match="CHAPKIT_MAX_BODY_BYTES must be a positive number of bytes"):
        plain_builder().build()


def _limit_of(app: Any) -> int | None:
    [entry] = [entry for entry in app.user_middleware if entry.cls is RequestBodyMiddleware]
    limit: int | None = entry.kwargs["max_body_size"]
    return limit


def test_every_operation_that_takes_a_body_documents_the_413() -> None:
    document = ml_service("memory://").with_tasks().build().openapi()
    with_bodies = [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert {(path, method) for path, method, _ in with_bodies} >= {
        (f"{ML}/$train", "post"),
        (f"{ML}/$predict", "post"),
        (f"{ML}/$validate", "post"),
        ("/api/v1/configs", "post"),
        ("/api/v1/configs/{entity_id}", "put"),
        ("/api/v1/artifacts", "post"),
        ("/api/v1/tasks", "post"),
    }
    for path, method, operation in with_bodies:
        answer = operation["responses"].get("413")
        assert answer is not None, (path, method)
        assert answer["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemDetail"}
    assert "ProblemDetail" in document["components"]["schemas"]
    without_bodies = document["paths"]["/api/v1/configs/{entity_id}"]["get"]
    assert "413" not in without_bodies["responses"]


async def test_a_422_echoes_a_bounded_part_of_a_large_input() -> None:
    rows = [[float(i), 1.0] for i in range(100_000)]  # a frame the schema refuses: its column names repeat
    body = {
        "config_id": "01K0000000000000000000000Z",
        "data": {"columns": ["x", "x"], "data": rows, "extra": "y" * 50_000},
    }
    async with serve(ml_service("memory://").build()) as client:
        response = await client.post(f"{ML}/$train", json=body)
        assert response.status_code == 422, response.text[:500]
        assert len(response.content) < 5_000
        assert "column names must be unique (repeated: x)" in response.text
        config = await client.post("/api/v1/configs", json={"name": "big", "data": {"values": list(range(300_000))}})
        assert config.status_code == 422 and len(config.content) < 5_000
        [error] = config.json()["detail"]
        assert "bytes as JSON" in error["msg"]
        assert error["input"].endswith("characters, truncated)")


async def test_refused_bodies_are_freed_once_answered_without_waiting_for_the_garbage_collector() -> None:
    # A refused body used to stay in memory, parsed, in a reference cycle through the exception's
    # frames, until a rare full collection: every large refused body added to the server's memory.
    too_large_config = json.dumps({"name": "big", "data": {"values": [i / 7 for i in range(100_000)]}}).encode()
    irregular_frame = json.dumps(
        {"config_id": "01K0000000000000000000000Z", "data": {"columns": ["x", "x"], "data": [[1.5, 1.5]] * 50_000}}
    ).encode()
    async with serve(ml_service("memory://").build()) as client:
        for path, body in (("/api/v1/configs", too_large_config), (f"{ML}/$train", irregular_frame)):
            assert (await client.post(path, content=body, headers=JSON)).status_code == 422  # warm up
            gc.collect()
            gc.disable()
            tracemalloc.start()
            try:
                for _ in range(3):
                    assert (await client.post(path, content=body, headers=JSON)).status_code == 422
                retained, _ = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
                gc.enable()
            assert retained < len(body), (path, retained)  # the body is 1-2 MB; its parsed values several times that


async def test_surrogates_written_as_bytes_are_a_400_problem_too() -> None:
    # Not valid UTF-8, but `json.loads` decodes them ("surrogatepass"): a model would get them in its frame.
    frame = b'{"columns": ["location", "y"], "data": [["a\xed\xa0\x80", 1.0]]}'
    async with serve(ml_service("memory://").build()) as client:
        for path, body in (
            ("/api/v1/configs", b'{"name": "a\xed\xb0\x80b", "data": {}}'),
            (f"{ML}/$train", b'{"config_id": "01K0000000000000000000000Z", "data": ' + frame + b"}"),
        ):
            response = await client.post(path, content=body, headers=JSON)
            assert response.status_code == 400 and "surrogate" in response.json()["detail"], response.text
        assert (await client.get("/api/v1/jobs")).json() == []
        assert (await client.get("/api/v1/configs")).json() == []
