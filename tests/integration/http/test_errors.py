"""Error responses: problem+json everywhere, 500s that leak nothing, request ids, body size limit."""

from __future__ import annotations

import pydantic
import pytest
import structlog
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import text

from chapkit import NotFoundError, add_error_handlers, add_logging_middleware, get_database
from tests.integration.http.conftest import builder, log_events, serve

PROBLEM = "application/problem+json"


def failing_router() -> APIRouter:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret at /srv/data/model.pkl")

    @router.get("/sql")
    async def sql() -> None:
        async with get_database().session() as session:  # type: ignore[attr-defined]
            await session.execute(text("SELECT * FROM no_such_table WHERE password = 'hunter2'"))

    @router.get("/chapkit")
    async def chapkit_error() -> None:
        raise NotFoundError("thing 42 not found", instance="/things/42", hint="try 43")

    @router.get("/pydantic")
    async def pydantic_error() -> None:
        class Model(pydantic.BaseModel):
            value: int

        Model.model_validate({"value": "not a number"})

    return router


async def test_unexpected_and_database_errors_are_500_problems_that_leak_nothing() -> None:
    app = builder().with_logging().include_router(failing_router()).build()
    async with serve(app) as client:
        for path in ("/boom", "/sql"):
            response = await client.get(path)
            assert response.status_code == 500
            assert response.headers["content-type"] == PROBLEM
            body = response.json()
            assert body["type"] == "urn:chapkit:error:internal" and body["detail"]
            assert body["trace_id"] == response.headers["x-request-id"]
            for secret in ("/srv", "model.pkl", "SELECT", "no_such_table", "hunter2", "Traceback"):
                assert secret not in response.text


async def test_chapkit_errors_keep_status_instance_and_extensions() -> None:
    async with serve(builder().include_router(failing_router()).build()) as client:
        response = await client.get("/chapkit")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "urn:chapkit:error:not-found",
        "title": "Resource Not Found",
        "status": 404,
        "detail": "thing 42 not found",
        "instance": "/things/42",
        "hint": "try 43",
    }


async def test_pydantic_errors_inside_endpoints_are_422_problems() -> None:
    async with serve(builder().include_router(failing_router()).build()) as client:
        response = await client.get("/pydantic")
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["detail"] == "Validation error"
    assert body["errors"][0]["loc"] == ["value"]
    assert "not a number" not in response.text


async def test_unknown_routes_and_methods_are_problems() -> None:
    async with serve(builder().build()) as client:
        missing = await client.get("/nowhere")
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
        assert missing.json()["detail"] == "Not Found"
        wrong_method = await client.delete("/api/v1/info")
        assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"


async def test_without_error_handlers_fastapi_defaults_remain() -> None:
    async with serve(builder(include_error_handlers=False).build()) as client:
        response = await client.get("/nowhere")
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"


async def test_every_response_carries_a_request_id_and_logs_bind_it(caplog: pytest.LogCaptureFixture) -> None:
    # with_logging() would reconfigure logging and drop caplog's handler: add the middleware directly.
    app = builder().include_router(failing_router()).build()
    add_logging_middleware(app)
    async with serve(app) as client:
        ok = await client.get("/api/v1/info")
        missing = await client.get("/chapkit")
    assert ok.headers["x-request-id"] != missing.headers["x-request-id"]
    assert len(ok.headers["x-request-id"]) == 26
    completed = log_events(caplog, "http.request.complete")
    assert [(entry["status_code"], entry["request_id"]) for entry in completed] == [
        (200, ok.headers["x-request-id"]),
        (404, missing.headers["x-request-id"]),
    ]


async def test_request_context_is_bound_in_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    router = APIRouter()

    @router.get("/log")
    async def log_something() -> dict[str, str]:
        structlog.get_logger("test").info("inside")
        return {"ok": "yes"}

    app = builder().include_router(router).build()
    add_logging_middleware(app)
    async with serve(app) as client:
        response = await client.get("/log")
        after = await client.get("/api/v1/info")
    [inside] = log_events(caplog, "inside")
    assert inside["request_id"] == response.headers["x-request-id"]
    assert (inside["method"], inside["path"]) == ("GET", "/log")
    assert after.headers["x-request-id"] != inside["request_id"]
    structlog.get_logger("test").info("outside")
    [outside] = log_events(caplog, "outside")
    assert "request_id" not in outside  # the request context does not outlive the request


@pytest.mark.parametrize("declared", [True, False])
async def test_oversize_bodies_are_413(declared: bool) -> None:
    router = APIRouter()

    @router.post("/echo")
    async def echo(payload: dict[str, str]) -> dict[str, int]:
        return {"keys": len(payload)}

    app = builder().with_request_size_limit(1000).include_router(router).build()
    big = b'{"a": "' + b"x" * 2000 + b'"}'
    async with serve(app) as client:
        if declared:
            response = await client.post("/echo", content=big, headers={"content-type": "application/json"})
        else:

            async def chunks():  # type: ignore[no-untyped-def]
                for start in range(0, len(big), 100):
                    yield big[start : start + 100]

            response = await client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413 and response.headers["content-type"] == PROBLEM
        small = await client.post("/echo", json={"a": "b"})
        assert small.status_code == 200


def test_request_size_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        builder().with_request_size_limit(0)


async def test_default_limit_takes_training_sized_bodies() -> None:
    router = APIRouter()

    @router.post("/size")
    async def size(payload: list[list[float]]) -> dict[str, int]:
        return {"rows": len(payload)}

    rows = [[float(i)] * 10 for i in range(100_000)]
    async with serve(builder().include_router(router).build()) as client:
        response = await client.post("/size", json=rows)
    assert response.status_code == 200 and response.json() == {"rows": 100_000}


class CountBody(BaseModel):
    count: int


async def test_a_422_does_not_echo_a_large_body_back_whole() -> None:
    app = FastAPI()
    add_error_handlers(app)

    @app.post("/things")
    async def create(body: CountBody) -> dict[str, int]:
        return {"count": body.count}

    huge = {"padding": "x" * 100_000}  # "count" missing: the error's input is the whole body
    async with serve(app) as client:
        response = await client.post("/things", json=huge)
        small = await client.post("/things", json={"count": "nope"})
    assert response.status_code == 422
    assert len(response.content) < 4096
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "count"] and error["type"] == "missing"
    assert error["input"].endswith("characters, truncated)")
    [small_error] = small.json()["detail"]
    assert small_error["input"] == "nope"
