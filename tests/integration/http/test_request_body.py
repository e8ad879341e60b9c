"""Bodies with text that is not valid Unicode are refused at the boundary, the same on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import APIRouter

from chapkit import ArtifactHierarchy, BaseConfig, ServiceBuilder, ServiceInfo
from chapkit.adapters.http.request_body import has_lone_surrogate
from tests.integration.http.conftest import emptied_postgres_url, serve

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


async def test_values_postgresql_cannot_store_are_a_400_problem(request: pytest.FixtureRequest) -> None:
    # Emptied first: earlier tests of the run leave rows of other schemas in the shared database.
    async with serve(service(await emptied_postgres_url(request)).build()) as client:
        for body in (
            b'{"name": "nul \\u0000 byte", "data": {"epochs": 1}}',  # text columns hold no NUL
            b'{"name": "overflow", "data": {"epochs": 1, "rate": 1e400}}',  # infinity is no JSON value for JSONB
        ):
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
