"""HealthRouter: aggregate state, custom checks, the database check and the SSE stream."""

from __future__ import annotations

import json

import httpx
import pytest

from chapkit import HealthState
from chapkit.domain.errors import ChapkitException
from tests.integration.http.conftest import builder, live_server, serve


async def healthy() -> tuple[HealthState, str | None]:
    return HealthState.HEALTHY, None


async def degraded() -> tuple[HealthState, str | None]:
    return HealthState.DEGRADED, "slow"


async def unhealthy() -> tuple[HealthState, str | None]:
    return HealthState.UNHEALTHY, "down"


async def raises() -> tuple[HealthState, str | None]:
    raise ChapkitException("exploded")


async def test_no_checks_is_just_healthy() -> None:
    async with serve(builder().with_health(include_database_check=False).build()) as client:
        response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "healthy"}


async def test_database_check_is_included_by_default() -> None:
    async with serve(builder().with_health().build()) as client:
        body = (await client.get("/health")).json()
    assert body == {"status": "healthy", "checks": {"database": {"state": "healthy"}}}


@pytest.mark.parametrize(
    ("checks", "overall"),
    [
        ({"a": healthy, "b": degraded}, "degraded"),
        ({"a": degraded, "b": unhealthy}, "unhealthy"),
        ({"a": healthy, "b-c_d": raises}, "unhealthy"),
    ],
)
async def test_worst_state_wins(checks: dict[str, object], overall: str) -> None:
    app = builder().with_health(checks=checks, include_database_check=False).build()  # type: ignore[arg-type]
    async with serve(app) as client:
        body = (await client.get("/health")).json()
    assert body["status"] == overall
    assert set(body["checks"]) == set(checks)
    if "b-c_d" in checks:
        assert body["checks"]["b-c_d"] == {"state": "unhealthy", "message": "Check failed: exploded"}


async def test_failed_database_check_says_so_without_details(tmp_path: object) -> None:
    app = builder().with_health().build()
    async with serve(app) as client:
        await app.state.database.dispose()
        app.state.service_runtime.database = _Unreachable()
        body = (await client.get("/health")).json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"] == {"state": "unhealthy", "message": "Database connection failed: OSError"}


class _Unreachable:
    url = "sqlite:///secret/path.db"

    async def ping(self) -> None:
        raise OSError("/secret/path.db is gone")


def test_custom_prefix_and_tags() -> None:
    app = builder().with_health(prefix="/healthz", tags=["Ops"]).build()
    document = app.openapi()
    assert document["paths"]["/healthz"]["get"]["tags"] == ["Ops"]


def test_health_stream_sends_events_at_the_poll_interval() -> None:
    app = builder().with_health(checks={"slow": degraded}, include_database_check=False).build()
    with live_server(app) as base_url, httpx.Client(base_url=base_url, timeout=5) as client:
        with client.stream("GET", "/health/$stream", params={"poll_interval": 0.05}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            events = []
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
                if len(events) == 3:
                    break
        assert events == [{"status": "degraded", "checks": {"slow": {"state": "degraded", "message": "slow"}}}] * 3
        assert client.get("/health/$stream", params={"poll_interval": 0}).status_code == 422
