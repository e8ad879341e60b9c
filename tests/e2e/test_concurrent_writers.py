"""16 concurrent writers on every write route of a full service: no 5xx, no stall, the exact final state.

Each writer works a script of rounds on its own configs, artifacts and widgets, and adds children
under parents that all writers share, so that reads-then-writes (`PUT`, a child under its parent,
link and unlink, subtree and config deletes) of different requests interleave. The final state is
known exactly; it is checked through the API and in the database itself. Runs against a real server
process on an SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from chapkit.adapters.sql import create_database
from tests.conftest import fresh_postgres_database
from tests.e2e.test_fuzz import running_fuzz_service

WRITERS = 16
ROUNDS = 6
SHARED_PARENTS = 4
SLOWEST_ALLOWED_SECONDS = 2.0
DEMO_CONFIG_DEFAULTS = {"features": ["rainfall", "mean_temperature"], "ridge": 0.0, "samples": 100}
"""What the fuzzed service's config (the main job's demo model config) holds when not given."""


@pytest.fixture(params=["sqlite_file", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite_file":
        yield f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


class Client:
    """An HTTP client that checks every status and keeps every request's duration."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.durations: list[tuple[float, str]] = []

    async def call(self, method: str, path: str, expected: int, body: Any = None) -> Any:
        started = time.perf_counter()
        response = await self.client.request(method, path, json=body)
        self.durations.append((time.perf_counter() - started, f"{method} {path}"))
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else None


async def _writer(api: Client, writer: int, parents: list[str]) -> dict[str, Any]:
    """One writer's rounds; returns what it expects to remain."""
    kept: dict[str, Any] = {"configs": {}, "widgets": {}, "trees": 0, "linked": {}}
    for round_ in range(ROUNDS):
        name = f"w{writer}-r{round_}"
        config = await api.call("POST", "/api/v1/configs", 201, {"name": name, "data": {"samples": round_ + 1}})
        updated = {"name": name, "data": {"samples": round_ + 100}}
        await api.call("PUT", f"/api/v1/configs/{config['id']}", 200, updated)
        root = await api.call("POST", "/api/v1/artifacts", 201, {"data": {"writer": writer, "round": round_}})
        await api.call("POST", "/api/v1/artifacts", 201, {"data": [round_], "parent_id": root["id"]})
        shared = parents[(writer + round_) % SHARED_PARENTS]
        await api.call("POST", "/api/v1/artifacts", 201, {"data": {"under": shared}, "parent_id": shared})
        link = {"artifact_id": root["id"]}
        await api.call("POST", f"/api/v1/configs/{config['id']}/$link-artifact", 204, link)
        widget = await api.call("POST", "/api/v1/widgets", 201, {"name": name, "size": round_})
        await api.call("PUT", f"/api/v1/widgets/{widget['id']}", 200, {"name": name, "size": round_ + 1})
        if round_ % 3 == 0:
            await api.call("DELETE", f"/api/v1/widgets/{widget['id']}", 204)
        else:
            kept["widgets"][name] = round_ + 1
        match round_ % 4:
            case 0:  # the config goes, and its linked tree with it
                await api.call("DELETE", f"/api/v1/configs/{config['id']}", 204)
            case 1:  # unlinked, then the tree is deleted on its own
                await api.call("POST", f"/api/v1/configs/{config['id']}/$unlink-artifact", 204, link)
                await api.call("DELETE", f"/api/v1/artifacts/{root['id']}", 204)
                kept["configs"][config["id"]] = updated
            case 2:  # config and linked tree stay
                kept["configs"][config["id"]] = updated
                kept["linked"][config["id"]] = root["id"]
                kept["trees"] += 1
            case _:  # unlinked, both stay
                await api.call("POST", f"/api/v1/configs/{config['id']}/$unlink-artifact", 204, link)
                kept["configs"][config["id"]] = updated
                kept["trees"] += 1
    return kept


async def _run(base: str) -> tuple[Client, list[dict[str, Any]], list[str]]:
    limits = httpx.Limits(max_connections=WRITERS, max_keepalive_connections=WRITERS)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        api = Client(http)
        parents = [
            (await api.call("POST", "/api/v1/artifacts", 201, {"data": {"parent": index}}))["id"]
            for index in range(SHARED_PARENTS)
        ]
        kept = await asyncio.gather(*(_writer(api, writer, parents) for writer in range(WRITERS)))
        return api, list(kept), parents


async def _database_counts(url: str) -> dict[str, int]:
    database = create_database(url)
    try:
        async with database.engine.connect() as connection:
            return {
                table: int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
                for table in ("configs", "artifacts", "config_artifacts", "test_widgets")
            }
    finally:
        await database.dispose()


@pytest.mark.slow
def test_sixteen_writers_on_every_write_route(tmp_path: Path, database_url: str) -> None:
    with running_fuzz_service(tmp_path, database_url) as base:
        api, kept, parents = asyncio.run(_run(base))
        slowest = max(api.durations)
        assert slowest[0] < SLOWEST_ALLOWED_SECONDS, f"slowest request: {slowest[1]} took {slowest[0]:.2f} s"

        configs = {config["id"]: config for config in httpx.get(f"{base}/api/v1/configs", timeout=30).json()}
        expected_configs = {id_: body for writer in kept for id_, body in writer["configs"].items()}
        assert {id_: {"name": c["name"], "data": c["data"]} for id_, c in configs.items()} == {
            id_: {"name": body["name"], "data": {**DEMO_CONFIG_DEFAULTS, **body["data"]}}
            for id_, body in expected_configs.items()
        }
        widgets = httpx.get(f"{base}/api/v1/widgets", timeout=30).json()
        assert {w["name"]: w["size"] for w in widgets} == {n: s for w in kept for n, s in w["widgets"].items()}
        for writer in kept:
            for config_id, root_id in writer["linked"].items():
                linked = httpx.get(f"{base}/api/v1/configs/{config_id}/$artifacts", timeout=30).json()
                assert [artifact["id"] for artifact in linked] == [root_id]
        for parent in parents:  # every child posted under a shared parent is there
            tree = httpx.get(f"{base}/api/v1/artifacts/{parent}/$tree", timeout=30).json()
            assert len(tree["children"]) == WRITERS * ROUNDS // SHARED_PARENTS
        trees = sum(writer["trees"] for writer in kept)
        artifacts = SHARED_PARENTS + WRITERS * ROUNDS + 2 * trees
        assert len(httpx.get(f"{base}/api/v1/artifacts", timeout=30).json()) == artifacts

    log = (tmp_path / "service.log").read_text()
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-3000:]
    assert asyncio.run(_database_counts(database_url)) == {
        "configs": len(expected_configs),
        "artifacts": artifacts,
        "config_artifacts": sum(len(writer["linked"]) for writer in kept),
        "test_widgets": sum(len(writer["widgets"]) for writer in kept),
    }
