"""Artifact tree timings on an SQLite file: a 1,000-deep chain, a 10,000-node tree and a 2,000-node tree.

Prints, for each operation, the median wall time over a few runs and the number of SQL statements it
sent (constant whatever the size of the tree). Run: `python bench/artifacts.py`.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from ulid import ULID

from chapkit import (
    Artifact,
    ArtifactHierarchy,
    ArtifactManager,
    ArtifactRepository,
    BaseConfig,
    Config,
    ConfigRepository,
    ServiceBuilder,
    ServiceInfo,
    SqliteDatabase,
)

RUNS = 7
HIERARCHY = ArtifactHierarchy(name="bench", level_labels={0: "train", 1: "predict"})


def chain(depth: int) -> list[Artifact]:
    """A chain of `depth` artifacts, root first."""
    ids = sorted(ULID() for _ in range(depth))
    return [Artifact(id=ids[i], parent_id=ids[i - 1] if i else None, level=i, data={"step": i}) for i in range(depth)]


def bushy_tree(size: int, fan_out: int = 10) -> list[Artifact]:
    """A tree of `size` artifacts where every node has up to `fan_out` children (breadth first)."""
    ids = sorted(ULID() for _ in range(size))
    nodes: list[Artifact] = []
    for i in range(size):
        parent = (i - 1) // fan_out if i else None
        level = 0 if parent is None else nodes[parent].level + 1
        nodes.append(
            Artifact(
                id=ids[i],
                parent_id=None if parent is None else ids[parent],
                level=level,
                data={"node": i, "score": i / size},
            )
        )
    return nodes


class StatementCounter:
    """Counts the SQL statements an engine sends."""

    def __init__(self, database: SqliteDatabase) -> None:
        self.count = 0
        event.listen(database.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def timed(
    database: SqliteDatabase, counter: StatementCounter, work: Callable[[ArtifactManager], Awaitable[Any]]
) -> tuple[float, int]:
    """Median milliseconds of `work` on a fresh session, and the statements one run sends."""
    times: list[float] = []
    statements = 0
    for _ in range(RUNS):
        async with database.session() as session:
            manager = ArtifactManager(ArtifactRepository(session), hierarchy=HIERARCHY)
            before = counter.count
            start = time.perf_counter()
            await work(manager)
            times.append((time.perf_counter() - start) * 1000)
            statements = counter.count - before
    return statistics.median(times), statements


async def store(database: SqliteDatabase, artifacts: list[Artifact]) -> None:
    async with database.session() as session:
        repo = ArtifactRepository(session)
        await repo.save_all(artifacts)
        await repo.commit()


async def link_config(database: SqliteDatabase, root_id: ULID) -> None:
    async with database.session() as session:
        configs = ConfigRepository(session)
        config = await configs.save(Config(name="bench", data={}))
        await configs.commit()
        assert config.id is not None
        await configs.link_artifact(config.id, root_id)
        await configs.commit()


async def http_timings(url: str, paths: list[tuple[str, str]]) -> None:
    """Median time of GET requests to a service on the same database (in-process ASGI, no network)."""
    app = (
        ServiceBuilder(info=ServiceInfo(display_name="bench"))
        .with_database(url)
        .with_config(BaseConfig)
        .with_artifacts(hierarchy=HIERARCHY, enable_config_linking=True)
        .build()
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, path in paths:
                times = []
                for _ in range(RUNS):
                    start = time.perf_counter()
                    response = await client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, response.text
                print(f"{name:<52} {statistics.median(times):>9.1f} {'(HTTP)':>11}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        database = SqliteDatabase(url)
        await database.init()
        counter = StatementCounter(database)
        deep, big, medium = chain(1_000), bushy_tree(10_000), bushy_tree(2_000)
        for artifacts in (deep, big, medium):
            await store(database, artifacts)
        chain_root, leaf, big_root, medium_root = deep[0].id, deep[-1].id, big[0].id, medium[0].id
        assert chain_root is not None and leaf is not None and big_root is not None and medium_root is not None
        del deep, big, medium  # time the reads, not the garbage collector walking the objects built here
        gc.collect()

        async def root_of_chain(manager: ArtifactManager) -> None:
            root = await manager.repo.get_root_artifact(leaf)
            assert root is not None and root.id == chain_root

        async def subtree(root_id: ULID, expected: int) -> Callable[[ArtifactManager], Awaitable[None]]:
            async def work(manager: ArtifactManager) -> None:
                assert len(await manager.find_subtree(root_id)) == expected

            return work

        async def tree(root_id: ULID, expected: int) -> Callable[[ArtifactManager], Awaitable[None]]:
            async def work(manager: ArtifactManager) -> None:
                built = await manager.build_tree(root_id)
                assert built is not None and built.id == root_id
                assert expected > 0

            return work

        async def tree_json(root_id: ULID) -> Callable[[ArtifactManager], Awaitable[None]]:
            async def work(manager: ArtifactManager) -> None:
                assert await manager.tree_json(root_id) is not None

            return work

        cases: list[tuple[str, Callable[[ArtifactManager], Awaitable[Any]]]] = [
            ("get_root_artifact, 1,000-deep chain", root_of_chain),
            ("find_subtree, 10,000-node tree", await subtree(big_root, 10_000)),
            ("build_tree, 10,000-node tree", await tree(big_root, 10_000)),
            ("build_tree, 1,000-deep chain", await tree(chain_root, 1_000)),
            ("find_subtree, 2,000-node tree", await subtree(medium_root, 2_000)),
            ("build_tree, 2,000-node tree", await tree(medium_root, 2_000)),
            ("tree_json ($tree body), 2,000 nodes", await tree_json(medium_root)),
            ("tree_json ($tree body), 1,000-deep chain", await tree_json(chain_root)),
        ]
        print(f"SQLite file, median of {RUNS} runs")
        print(f"{'operation':<52} {'ms':>9} {'statements':>11}")
        for name, work in cases:
            millis, statements = await timed(database, counter, work)
            print(f"{name:<52} {millis:>9.1f} {statements:>11}")
        await link_config(database, chain_root)
        await database.dispose()
        await http_timings(
            url,
            [
                ("GET /artifacts/{root}/$tree, 2,000 nodes", f"/api/v1/artifacts/{medium_root}/$tree"),
                ("GET /artifacts/{root}/$tree, 10,000 nodes", f"/api/v1/artifacts/{big_root}/$tree"),
                ("GET /artifacts/{leaf}/$config, 1,000 deep", f"/api/v1/artifacts/{leaf}/$config"),
                ("GET /artifacts/{root}/$config, chain root", f"/api/v1/artifacts/{chain_root}/$config"),
            ],
        )


if __name__ == "__main__":
    asyncio.run(main())
