"""HTTP benchmark: a custom entity CRUD, configs and artifacts on an SQLite file (or PostgreSQL), under bounded load.

Starts the service (built with ServiceBuilder, served by uvicorn) in a child process, drives it with
`--clients` concurrent keep-alive connections (a minimal HTTP/1.1 client, so that the load generator
costs little CPU beside the server) for a fixed number of requests per phase, and prints for each phase
the throughput, p50/p99 latency and the server's CPU time per request (read from /proc), next to a bare
FastAPI route served by the same process. It ends with the budgets of the request path, as ratios to
the bare route measured in the same run (machines differ; ratios within one run are what compare).

    .venv/bin/python bench/http_load.py [--requests 2000] [--clients 16] [--no-logging] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from chapkit import (
    ArtifactHierarchy,
    BaseConfig,
    BaseManager,
    BaseRepository,
    CrudRouter,
    Entity,
    EntityIn,
    EntityOut,
    ServiceBuilder,
    ServiceInfo,
    get_session,
)

ITEMS = "/api/v1/items"
CONFIGS = "/api/v1/configs"
ARTIFACTS = "/api/v1/artifacts"
TREE_NODES = 2000
TREE_FAN_OUT = 20


# ---------------------------------------------------------------------------------------------- server


class Item(Entity):
    __tablename__ = "bench_items"
    name: Mapped[str]
    value: Mapped[float] = mapped_column(default=0.0)


class ItemIn(EntityIn):
    name: str
    value: float = 0.0


class ItemOut(ItemIn, EntityOut):
    pass


class BenchConfig(BaseConfig):
    epochs: int
    rate: float = 0.1


def build_app(database_url: str, logging: bool) -> Any:
    """The benchmarked service: a custom entity CRUD written as a user would, configs, and a bare route."""

    async def item_manager(session: AsyncSession = Depends(get_session)) -> BaseManager[Any, Any, Any, Any]:
        return BaseManager(BaseRepository(session, Item), Item, ItemOut)

    builder = ServiceBuilder(info=ServiceInfo(display_name="bench")).with_database(database_url).with_health()
    builder = builder.with_config(BenchConfig).with_artifacts(
        hierarchy=ArtifactHierarchy(name="bench", level_labels={0: "model", 1: "prediction"})
    )
    if logging:
        builder = builder.with_logging()
    app = builder.include_router(CrudRouter(ITEMS, ["Items"], ItemIn, ItemOut, item_manager).router).build()

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(port: int, database_url: str, logging: bool) -> None:
    """Child process: serve the app until terminated."""
    import uvicorn

    uvicorn.run(build_app(database_url, logging), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---------------------------------------------------------------------------------------------- client


class Connection:
    """A minimal keep-alive HTTP/1.1 client connection: cheap enough not to compete with the server."""

    def __init__(self, host: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.host = host
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(host, reader, writer)

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


RESULTS: dict[str, dict[str, float]] = {}
"""Each phase's numbers, by phase name, for the budget lines at the end."""


async def phase(
    name: str,
    pid: int,
    requests: int,
    connections: list[Connection],
    call: Callable[[Connection, int], Awaitable[None]],
) -> None:
    """Run `requests` calls spread over the concurrent connections and print the numbers."""
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker(connection: Connection) -> None:
        for index in counter:
            start = time.perf_counter()
            await call(connection, index)
            latencies.append(time.perf_counter() - start)

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(connection) for connection in connections))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    RESULTS[name] = {"rate": requests / elapsed, "p50": p50, "p99": p99, "cpu": cpu / requests * 1000}
    print(
        f"{name:<22} {requests / elapsed:>9.0f} req/s   p50 {p50:>7.2f} ms   p99 {p99:>7.2f} ms   "
        f"server CPU {cpu / requests * 1000:>6.3f} ms/req"
    )


async def wait_until_healthy(host: str, port: int) -> None:
    for _ in range(300):
        try:
            connection = await Connection.open(host, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        try:
            if (await connection.request("GET", "/health"))[0] == 200:
                return
        finally:
            connection.close()
    raise SystemExit("server did not start")


async def drive(pid: int, host: str, port: int, requests: int, clients: int, storage: str) -> None:
    await wait_until_healthy(host, port)
    connections = [await Connection.open(host, port) for _ in range(clients)]

    async def bare(connection: Connection, index: int) -> None:
        status, _ = await connection.request("GET", "/bare")
        assert status == 200

    print(f"{requests} requests per phase, {clients} concurrent keep-alive connections, loopback, {storage}")
    try:
        await phase("warm-up", pid, 200, connections, bare)
        await phase("bare FastAPI route", pid, requests, connections, bare)
        await crud_phases("item", ITEMS, item_body, pid, requests, connections)
        configs = await crud_phases("config", CONFIGS, config_body, pid, requests, connections)
        await put_phase(configs, pid, requests, connections)
        await child_artifact_phase(pid, requests, connections)
        await tree_phase(connections[0])
    finally:
        for connection in connections:
            connection.close()
    print_budgets()


def item_body(index: int) -> dict[str, Any]:
    return {"name": f"item {index}", "value": index / 3}


def config_body(index: int) -> dict[str, Any]:
    return {"name": f"config {index}", "data": {"epochs": index, "rate": index / 7}}


async def crud_phases(
    label: str,
    prefix: str,
    body_of: Callable[[int], dict[str, Any]],
    pid: int,
    requests: int,
    connections: list[Connection],
) -> list[str]:
    """POST `requests` entities to `prefix`, then GET them by id, then list pages of 50; return the ids."""
    created: list[str] = []

    async def post(connection: Connection, index: int) -> None:
        status, content = await connection.request("POST", prefix, json.dumps(body_of(index)).encode())
        assert status == 201, content
        created.append(json.loads(content)["id"])

    async def get_by_id(connection: Connection, index: int) -> None:
        status, _ = await connection.request("GET", f"{prefix}/{created[index % len(created)]}")
        assert status == 200

    async def list_page(connection: Connection, index: int) -> None:
        status, content = await connection.request("GET", f"{prefix}?page={index % 20 + 1}&size=50")
        assert status == 200 and len(json.loads(content)["items"]) == 50

    await phase(f"POST {label}", pid, requests, connections, post)
    await phase(f"GET {label} by id", pid, requests, connections, get_by_id)
    await phase(f"GET {label} page (50)", pid, requests, connections, list_page)
    return created


async def put_phase(ids: list[str], pid: int, requests: int, connections: list[Connection]) -> None:
    """PUT each config (a read, then a write of the same row: the read-modify-write path)."""

    async def put(connection: Connection, index: int) -> None:
        body = json.dumps({"name": f"config {index}", "data": {"epochs": index + 1}}).encode()
        status, content = await connection.request("PUT", f"{CONFIGS}/{ids[index % len(ids)]}", body)
        assert status == 200, content

    await phase("PUT config", pid, requests, connections, put)


async def post_artifact(connection: Connection, data: Any, parent_id: str | None = None) -> str:
    body = json.dumps({"data": data, "parent_id": parent_id} if parent_id else {"data": data}).encode()
    status, content = await connection.request("POST", ARTIFACTS, body)
    assert status == 201, content
    artifact_id: str = json.loads(content)["id"]
    return artifact_id


async def child_artifact_phase(pid: int, requests: int, connections: list[Connection]) -> None:
    """POST child artifacts under shared parents (each reads its parent, then inserts)."""
    parents = [await post_artifact(connections[0], {"parent": n}) for n in range(TREE_FAN_OUT)]

    async def post_child(connection: Connection, index: int) -> None:
        await post_artifact(connection, [index, index / 2], parents[index % len(parents)])

    await phase("POST child artifact", pid, requests, connections, post_child)


async def tree_phase(connection: Connection) -> None:
    """Build a tree of TREE_NODES artifacts (fan-out TREE_FAN_OUT), then time `$tree` of its root, one at a time."""
    root = await post_artifact(connection, {"root": True})
    level, nodes = [root], 1
    while nodes < TREE_NODES:
        next_level = []
        for parent in level:
            for _ in range(min(TREE_FAN_OUT, TREE_NODES - nodes)):
                next_level.append(await post_artifact(connection, {"n": nodes}, parent))
                nodes += 1
        level = next_level
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        status, content = await connection.request("GET", f"{ARTIFACTS}/{root}/$tree")
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 200, content
    median = statistics.median(timings)
    RESULTS["$tree"] = {"wall": median}
    print(
        f"{'GET $tree (' + str(TREE_NODES) + ' nodes)':<22} median wall {median:>7.2f} ms over {len(timings)} requests"
    )


BUDGETS = [
    # (phase, what, limit, kind): kind "ratio" compares server CPU per request to the bare route's.
    ("GET config by id", "server CPU / bare route", 7.0, "ratio"),
    ("GET config page (50)", "server CPU / bare route", 15.0, "ratio"),
    ("POST config", "server CPU / bare route", 12.0, "ratio"),
    ("POST config", "p99 ms", 30.0, "p99"),
    ("POST child artifact", "req/s (at least)", 1000.0, "rate"),
    ("$tree", "median wall ms", 15.0, "wall"),
]


def print_budgets() -> None:
    """Each budget of the request path: measured value, limit, and whether it holds in this run."""
    bare = RESULTS["bare FastAPI route"]["cpu"]
    print("\nbudgets (ratios to the bare route of this run)")
    for name, what, limit, kind in BUDGETS:
        numbers = RESULTS[name]
        value = numbers["cpu"] / bare if kind == "ratio" else numbers[kind]
        holds = value >= limit if kind == "rate" else value <= limit
        bound = ">=" if kind == "rate" else "<="
        verdict = "ok" if holds else "OVER"
        print(f"  {name:<22} {what:<26} {value:>8.2f}   budget {bound} {limit:g}   {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--no-logging", action="store_true", help="serve without request logging")
    parser.add_argument("--database-url", help="serve on this database (default: a new SQLite file)")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], not args.no_logging)
        return
    if args.requests < 1000:
        parser.error("--requests must be at least 1000 (the list phase pages through 1000 items)")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        storage = "SQLite file" if args.database_url is None else url.split("://", 1)[0]
        command = [sys.executable, __file__, "--serve", str(port), url]
        if args.no_logging:
            command.append("--no-logging")
        env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            print(f"request logging: {'off' if args.no_logging else 'on (JSON, INFO)'}")
            asyncio.run(drive(server.pid, "127.0.0.1", port, args.requests, args.clients, storage))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
