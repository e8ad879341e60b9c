"""HTTP benchmark: a custom entity CRUD, configs and artifacts on an SQLite file (or PostgreSQL), under bounded load.

Three kinds of process, so that none measures itself:

- the service (built with `ServiceBuilder`, request logging on, written to a file; monitoring and auth off),
- the bare route: a plain FastAPI app with one route returning a constant dict (no middleware, no database),
- the load generator: `--clients` concurrent keep-alive connections (a minimal HTTP/1.1 client on uvloop).

Both servers run in one uvicorn worker with the same flags (uvloop, httptools). Each phase sends a fixed
number of requests after a warm-up and prints the throughput, p50/p99 latency and the server's CPU time
per request (user + system of the server process, its threads included, read from /proc). The run ends
with each budget of the request path as measured/budget and PASS or FAIL: CPU per request as a ratio to
the bare route of the same run (machines differ; ratios within one run are what compare), the GET tail
as p99/p50, and the artifact tree build rate and `$tree` time against the code before: given
`--before DIR` (a checkout of it), its service runs beside this one in the same run and builds the
same tree right after (the machine's speed can drift between runs); each `$tree` is timed after its
own build, and again with requests alternating between the two servers (each then meets the other's
effect on the machine's caches: both are slower so). Given `--baseline` instead, against the
`--save`d numbers of a run of it.

With `--upstream`, the config phases (POST, GET by id, page of 50) also run, in the same sitting and
after the main run, against this checkout's service under Python 3.13 and the same service built on
chapkit 2.4.1 (the newer upstream on PyPI, what a user would pick instead of us; `bench/upstream.py`
finds both interpreters), one after the other, and their CPU per request prints side by side.

    .venv/bin/python bench/http_load.py [--requests 5000] [--clients 16] [--no-logging]
        [--database-url URL] [--save FILE] [--before DIR | --baseline FILE] [--upstream]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from upstream import free_port, side_by_side

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
UVICORN_FLAGS: dict[str, Any] = {"loop": "uvloop", "http": "httptools", "log_level": "warning", "access_log": False}
"""The same for both servers: one worker, uvloop and httptools, no access log (the service logs each request)."""


# ---------------------------------------------------------------------------------------------- servers


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
    """The benchmarked service: a custom entity CRUD written as a user would, configs and artifacts."""

    async def item_manager(session: AsyncSession = Depends(get_session)) -> BaseManager[Any, Any, Any, Any]:
        return BaseManager(BaseRepository(session, Item), Item, ItemOut)

    builder = ServiceBuilder(info=ServiceInfo(display_name="bench")).with_database(database_url).with_health()
    builder = builder.with_config(BenchConfig).with_artifacts(
        hierarchy=ArtifactHierarchy(name="bench", level_labels={0: "model", 1: "prediction"})
    )
    if logging:
        builder = builder.with_logging()
    return builder.include_router(CrudRouter(ITEMS, ["Items"], ItemIn, ItemOut, item_manager).router).build()


UPSTREAM_SERVICE = """
import sys

import uvicorn
from chapkit import ArtifactHierarchy, BaseConfig, get_alembic_dir
from chapkit.api import ServiceBuilder, ServiceInfo
from servicekit import SqliteDatabaseBuilder


class BenchConfig(BaseConfig):
    epochs: int = 1
    rate: float = 0.1


app = (
    ServiceBuilder(info=ServiceInfo(id="bench", display_name="bench"))
    # An SQLite file with chapkit's bundled migrations, as 2.4.1's MLServiceBuilder makes it.
    .with_database(
        SqliteDatabaseBuilder.from_file(sys.argv[2].split("///", 1)[1])
        .with_migrations(enabled=True, alembic_dir=get_alembic_dir())
        .build()
    )
    .with_health()
    .with_config(BenchConfig)
    .with_artifacts(hierarchy=ArtifactHierarchy(name="bench", level_labels={0: "model", 1: "prediction"}))
    .with_logging()
    .build()
)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools", log_level="warning",
            access_log=False)
"""
"""The bench's service (configs and artifacts, request logging on) built on chapkit 2.4.1: `PORT URL`."""


def build_bare_app() -> Any:
    """A plain FastAPI app: one route returning a constant dict, no middleware, no database."""
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(app: Any, port: int) -> None:
    """Server process: serve `app` until terminated."""
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, **UVICORN_FLAGS)


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
    """User + system CPU time of a process and its threads, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Load:
    """The load generator's side: connections to one server, phases timed against that server's CPU."""

    def __init__(self, pid: int, connections: list[Connection], results: dict[str, dict[str, float]]) -> None:
        self.pid = pid
        self.connections = connections
        self.results = results

    @classmethod
    async def open(cls, pid: int, port: int, clients: int, results: dict[str, dict[str, float]]) -> Load:
        await wait_until_up(port)
        return cls(pid, [await Connection.open("127.0.0.1", port) for _ in range(clients)], results)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    async def phase(
        self, name: str, requests: int, call: Callable[[Connection, int], Awaitable[bool]], *, record: bool = True
    ) -> None:
        """Send `requests` calls over the concurrent connections; record and print the numbers.

        `call` answers whether its request succeeded; failures are counted, not raised.
        """
        latencies: list[float] = []
        errors = 0
        counter = iter(range(requests))

        async def worker(connection: Connection) -> None:
            nonlocal errors
            for index in counter:
                start = time.perf_counter()
                ok = await call(connection, index)
                latencies.append(time.perf_counter() - start)
                errors += not ok

        cpu_before = cpu_seconds(self.pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker(connection) for connection in self.connections))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(self.pid) - cpu_before
        if not record:
            return
        ordered = sorted(latencies)
        numbers = {
            "requests": requests,
            "rate": requests / elapsed,
            "p50": statistics.median(ordered) * 1000,
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
            "cpu": cpu / requests * 1000,
            "errors": errors,
        }
        self.results[name] = numbers
        print(
            f"{name:<24} {numbers['rate']:>8.0f} req/s   p50 {numbers['p50']:>7.2f} ms   "
            f"p99 {numbers['p99']:>7.2f} ms   server CPU {numbers['cpu']:>6.3f} ms/req"
            + (f"   {errors} errors" if errors else ""),
            flush=True,
        )


async def wait_until_up(port: int) -> None:
    """Wait for the server to answer (the service's `/health`, or the bare route)."""
    for _ in range(300):
        try:
            connection = await Connection.open("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        try:
            for path in ("/health", "/bare"):
                if (await connection.request("GET", path))[0] == 200:
                    return
        finally:
            connection.close()
    raise SystemExit("server did not start")


async def drive(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The load generator process: the bare route, then the service's phases."""
    results: dict[str, dict[str, float]] = {}
    requests, clients = args.requests, args.clients
    print(f"{requests} requests per phase, {clients} concurrent keep-alive connections, loopback, {args.storage}")
    print(f"request logging: {'off' if args.no_logging else 'on (JSON, INFO, to a file)'}", flush=True)

    bare = await Load.open(args.bare_pid, args.bare_port, clients, results)

    async def get_bare(connection: Connection, index: int) -> bool:
        return (await connection.request("GET", "/bare"))[0] == 200

    try:
        await bare.phase("warm-up", max(500, requests // 5), get_bare, record=False)
        await bare.phase("bare FastAPI route", requests, get_bare)
    finally:
        bare.close()

    load = await Load.open(args.pid, args.port, clients, results)
    try:
        await warm_up(load, requests)
        await crud_phases(load, "item", ITEMS, item_body, requests)
        configs = await crud_phases(load, "config", CONFIGS, config_body, requests)
        await put_phase(load, configs, requests)
        await child_artifact_phase(load, requests)
        root = await tree_phases(load)
    finally:
        load.close()
    if args.before_port:
        print(f"\nmain-before ({args.before})", flush=True)
        before = await Load.open(args.before_pid, args.before_port, clients, {})
        try:
            await warm_up(before, requests)
            before_root = await tree_phases(before)
        finally:
            before.close()
        results[f"{BEFORE}tree build"] = before.results["tree build"]
        results[f"{BEFORE}$tree"] = before.results["$tree"]
        await alternating_trees(results, [("", args.port, root), (BEFORE, args.before_port, before_root)])
    for name, pid, port in args.compare:
        print(f"\n{name}", flush=True)
        compared = await Load.open(pid, port, clients, {})
        try:
            await warm_up(compared, requests)
            await crud_phases(compared, "config", CONFIGS, config_body, requests)
        finally:
            compared.close()
        results.update({f"{name}: {phase}": numbers for phase, numbers in compared.results.items()})
    return results


def item_body(index: int) -> dict[str, Any]:
    return {"name": f"item {index}", "value": index / 3}


def config_body(index: int) -> dict[str, Any]:
    return {"name": f"config {index}", "data": {"epochs": index, "rate": index / 7}}


async def warm_up(load: Load, requests: int) -> None:
    """Touch every route of the phases once in a while (not recorded): imports, caches, pool, statements."""
    warm = max(500, requests // 10)
    ids: list[str] = []

    async def mixed(connection: Connection, index: int) -> bool:
        if index % 2 == 0 or not ids:
            status, content = await connection.request("POST", CONFIGS, json.dumps(config_body(index)).encode())
            ids.append(json.loads(content)["id"])
            return status == 201
        status, _ = await connection.request("GET", f"{CONFIGS}/{ids[index % len(ids)]}")
        return status == 200

    await load.phase("warm-up", warm, mixed, record=False)
    for config_id in ids:
        await load.connections[0].request("DELETE", f"{CONFIGS}/{config_id}")


async def crud_phases(
    load: Load, label: str, prefix: str, body_of: Callable[[int], dict[str, Any]], requests: int
) -> list[str]:
    """POST `requests` entities to `prefix`, then GET them by id, then list pages of 50; return the ids."""
    created: list[str] = []
    pages = max(1, min(20, requests // 50))

    async def post(connection: Connection, index: int) -> bool:
        status, content = await connection.request("POST", prefix, json.dumps(body_of(index)).encode())
        if status != 201:
            return False
        created.append(json.loads(content)["id"])
        return True

    async def get_by_id(connection: Connection, index: int) -> bool:
        return (await connection.request("GET", f"{prefix}/{created[index % len(created)]}"))[0] == 200

    async def list_page(connection: Connection, index: int) -> bool:
        status, content = await connection.request("GET", f"{prefix}?page={index % pages + 1}&size=50")
        return status == 200 and len(json.loads(content)["items"]) == 50

    await load.phase(f"POST {label}", requests, post)
    await load.phase(f"GET {label} by id", requests, get_by_id)
    await load.phase(f"GET {label} page (50)", requests, list_page)
    return created


async def put_phase(load: Load, ids: list[str], requests: int) -> None:
    """PUT each config (a read, then a write of the same row: the read-modify-write path)."""

    async def put(connection: Connection, index: int) -> bool:
        body = json.dumps({"name": f"config {index}", "data": {"epochs": index + 1}}).encode()
        return (await connection.request("PUT", f"{CONFIGS}/{ids[index % len(ids)]}", body))[0] == 200

    await load.phase("PUT config", requests, put)


async def post_artifact(connection: Connection, data: Any, parent_id: str | None = None) -> str | None:
    """POST an artifact; its id, or None when it was not created."""
    body = json.dumps({"data": data, "parent_id": parent_id} if parent_id else {"data": data}).encode()
    status, content = await connection.request("POST", ARTIFACTS, body)
    if status != 201:
        return None
    artifact_id: str = json.loads(content)["id"]
    return artifact_id


async def child_artifact_phase(load: Load, requests: int) -> None:
    """POST child artifacts under shared parents (each reads its parent, then inserts)."""
    parents = [await post_artifact(load.connections[0], {"parent": n}) for n in range(TREE_FAN_OUT)]

    async def post_child(connection: Connection, index: int) -> bool:
        return await post_artifact(connection, [index, index / 2], parents[index % len(parents)]) is not None

    await load.phase("POST child artifact", requests, post_child)


async def tree_level(load: Load, parents: list[str], count: int) -> tuple[list[str], int]:
    """POST `count` children under `parents` (TREE_FAN_OUT each) over every connection: their ids, and the failures."""
    created: list[str] = []
    errors = 0
    counter = iter(range(count))

    async def worker(connection: Connection) -> None:
        nonlocal errors
        for index in counter:
            child = await post_artifact(connection, {"n": index}, parents[index // TREE_FAN_OUT])
            if child is None:
                errors += 1
            else:
                created.append(child)

    await asyncio.gather(*(worker(connection) for connection in load.connections))
    return created, errors


async def tree_phases(load: Load) -> str:
    """Build a tree of TREE_NODES artifacts (fan-out TREE_FAN_OUT) at full concurrency, level by level; time `$tree`.

    Returns the tree's root.
    """
    root = await post_artifact(load.connections[0], {"root": True})
    assert root is not None, "the tree's root was not created"
    level: list[str] = [root]
    nodes, built, errors, started = 1, 0, 0, time.perf_counter()
    while nodes < TREE_NODES and level:
        count = min(len(level) * TREE_FAN_OUT, TREE_NODES - nodes)
        level, failed = await tree_level(load, level, count)
        nodes += count
        built += count
        errors += failed
    elapsed = time.perf_counter() - started
    load.results["tree build"] = {"rate": built / elapsed, "errors": errors}
    print(
        f"{'POST tree (' + str(TREE_NODES) + ' nodes)':<24} {built / elapsed:>8.0f} req/s   "
        f"{len(load.connections)} clients, {errors} errors",
        flush=True,
    )
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        status, content = await load.connections[0].request("GET", f"{ARTIFACTS}/{root}/$tree")
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 200, content
        assert content.count(b'"id"') == TREE_NODES, "the tree is not whole"
    median = statistics.median(timings)
    load.results["$tree"] = {"wall": median}
    print(
        f"{'GET $tree (' + str(TREE_NODES) + ' nodes)':<24} median wall {median:>7.2f} ms over {len(timings)} requests"
    )
    return root


async def alternating_trees(results: dict[str, dict[str, float]], trees: list[tuple[str, int, str]]) -> None:
    """`$tree` on each (name, port, root) in turn, the order swapped every round; medians as `{name}$tree alternating`.

    Servers measured one after another can meet a machine of another speed; requests alternating
    meet the same one.
    """
    connections = [await Connection.open("127.0.0.1", port) for _, port, _ in trees]
    timings: list[list[float]] = [[] for _ in trees]
    try:
        for round_ in range(20):
            order = range(len(trees)) if round_ % 2 else range(len(trees) - 1, -1, -1)
            for index in order:
                started = time.perf_counter()
                status, content = await connections[index].request("GET", f"{ARTIFACTS}/{trees[index][2]}/$tree")
                timings[index].append((time.perf_counter() - started) * 1000)
                assert status == 200 and content.count(b'"id"') == TREE_NODES, "the tree is not whole"
    finally:
        for connection in connections:
            connection.close()
    for (name, _, _), measured in zip(trees, timings, strict=True):
        median = statistics.median(measured)
        results[f"{name}$tree alternating"] = {"wall": median}
        label = f"GET $tree, alternating ({name.rstrip(': ') or 'chapkit'})"
        print(f"{label:<40} median wall {median:>7.2f} ms over {len(measured)} requests", flush=True)


# ---------------------------------------------------------------------------------------------- budgets

CPU_BUDGETS = [
    # (phase, limit): server CPU per request as a multiple of the bare route's, in the same run.
    ("GET config by id", 5.0),
    ("GET config page (50)", 12.0),
    ("POST config", 8.0),
]
TAIL_BUDGET = ("GET config by id", 2.0)
"""p99 at most this multiple of p50."""
TREE_BUILD_SPEEDUP = 2.0
"""The tree build's rate: at least this multiple of the baseline's, with no errors."""
TREE_READ_SPEEDUP = 3.0
"""`$tree`: at most the baseline's time divided by this."""


def budget_lines(results: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]] | None) -> list[str]:
    """Each budget as `name  measured / budget  PASS|FAIL`."""
    lines = []

    def line(name: str, measured: float, bound: str, limit: float, holds: bool) -> None:
        lines.append(f"  {name:<44} {measured:>8.2f} / {bound} {limit:<5g} {'PASS' if holds else 'FAIL'}")

    bare = results["bare FastAPI route"]["cpu"]
    lines.append(f"  {'bare FastAPI route: server CPU ms/req':<44} {bare:>8.3f}")
    for name, limit in CPU_BUDGETS:
        ratio = results[name]["cpu"] / bare
        line(f"{name}: CPU / bare", ratio, "<=", limit, ratio <= limit)
    name, limit = TAIL_BUDGET
    tail = results[name]["p99"] / results[name]["p50"]
    line(f"{name}: p99 / p50", tail, "<=", limit, tail <= limit)
    errors = results["tree build"]["errors"]
    line("tree build: errors", errors, "<=", 0, errors == 0)
    if f"{BEFORE}tree build" in results:
        baseline = {"tree build": results[f"{BEFORE}tree build"], "$tree": results[f"{BEFORE}$tree"]}
    if baseline is None:
        lines.append("  (tree budgets against the code before: pass --before DIR, or --baseline FILE saved by --save)")
    else:
        speedup = results["tree build"]["rate"] / baseline["tree build"]["rate"]
        line(
            "tree build at 16 clients: rate / before", speedup, ">=", TREE_BUILD_SPEEDUP, speedup >= TREE_BUILD_SPEEDUP
        )
        faster = baseline["$tree"]["wall"] / results["$tree"]["wall"]
        line("$tree (2,000 nodes): before / now", faster, ">=", TREE_READ_SPEEDUP, faster >= TREE_READ_SPEEDUP)
        if "$tree alternating" in results:
            faster = results[f"{BEFORE}$tree alternating"]["wall"] / results["$tree alternating"]["wall"]
            holds = faster >= TREE_READ_SPEEDUP
            line("$tree, requests alternating: before / now", faster, ">=", TREE_READ_SPEEDUP, holds)
    return lines


BEFORE = "main-before: "
"""The prefix of the figures of `--before`'s service in the results."""
SIDE_BY_SIDE = ("POST config", "GET config by id", "GET config page (50)")
OURS_313 = "chapkit, Python 3.13"
UPSTREAM = "chapkit 2.4.1, Python 3.13"


def side_by_side_lines(results: dict[str, dict[str, float]]) -> list[str]:
    """Server CPU per request of the config phases, this checkout against chapkit 2.4.1 on one Python."""
    lines = [f"  {'phase':<24} {'chapkit':>10} {'2.4.1':>10} {'chapkit / 2.4.1':>16}   (server CPU ms/req)"]
    for phase in SIDE_BY_SIDE:
        ours, theirs = results[f"{OURS_313}: {phase}"]["cpu"], results[f"{UPSTREAM}: {phase}"]["cpu"]
        lines.append(f"  {phase:<24} {ours:>10.3f} {theirs:>10.3f} {ours / theirs:>15.2f}x")
    return lines


# ---------------------------------------------------------------------------------------------- main


@contextmanager
def server(command: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, its output written to `log`; terminated after the block."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=5000, help="requests per phase (default 5000)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--no-logging", action="store_true", help="serve without request logging")
    parser.add_argument("--database-url", help="serve on this database (default: a new SQLite file)")
    parser.add_argument("--save", type=Path, help="write this run's numbers to FILE (JSON)")
    parser.add_argument("--baseline", type=Path, help="numbers saved by --save: the tree budgets compare to them")
    parser.add_argument(
        "--before", type=Path, help="a checkout of the code before: its service beside this one, for the tree budgets"
    )
    parser.add_argument(
        "--upstream", action="store_true", help="also run the config phases on Python 3.13: chapkit and chapkit 2.4.1"
    )
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(build_app(args.serve[1], not args.no_logging), int(args.serve[0]))
        return
    if args.serve_bare:
        serve(build_bare_app(), args.serve_bare)
        return
    if args.load:
        import uvloop

        # The load generator's own collections would show as the server's latency: none while it measures.
        gc.disable()
        load_args = argparse.Namespace(**json.loads(args.load))
        Path(load_args.output).write_text(json.dumps(uvloop.run(drive(load_args))))
        return
    if args.requests < 1000:
        parser.error("--requests must be at least 1000 (the list phase pages through 1000 entities)")

    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    port, bare_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as compared_servers:
        folder = Path(directory)
        url = args.database_url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        storage = "SQLite file" if args.database_url is None else url.split("://", 1)[0]
        env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
        service_command = [sys.executable, __file__, "--serve", str(port), url]
        if args.no_logging:
            service_command.append("--no-logging")
        bare_command = [sys.executable, __file__, "--serve-bare", str(bare_port)]
        compare = []
        if args.upstream:
            upstream, ours = side_by_side()
            (folder / "upstream_service.py").write_text(UPSTREAM_SERVICE)
            for name, command in (
                (OURS_313, [ours, __file__, "--serve"]),
                (UPSTREAM, [upstream, "-I", str(folder / "upstream_service.py")]),
            ):
                other_port = free_port()
                other_url = f"sqlite+aiosqlite:///{folder / (str(other_port) + '.db')}"
                process = compared_servers.enter_context(
                    server([*command, str(other_port), other_url], folder / f"{other_port}.log", env)
                )
                compare.append((name, process.pid, other_port))
        before_port, before_pid = None, None
        if args.before:
            before_port = free_port()
            before_url = f"sqlite+aiosqlite:///{folder / 'before.db'}"
            before_command = [sys.executable, __file__, "--serve", str(before_port), before_url]
            before_env = {**env, "PYTHONPATH": str(args.before.resolve())}
            before_service = compared_servers.enter_context(server(before_command, folder / "before.log", before_env))
            before_pid = before_service.pid
        with (
            server(service_command, folder / "service.log", env) as service,
            server(bare_command, folder / "bare.log", env) as bare,
        ):
            load_args = {
                "before": str(args.before),
                "before_port": before_port,
                "before_pid": before_pid,
                "pid": service.pid,
                "port": port,
                "bare_pid": bare.pid,
                "bare_port": bare_port,
                "requests": args.requests,
                "clients": args.clients,
                "storage": storage,
                "no_logging": args.no_logging,
                "output": str(folder / "results.json"),
                "compare": compare,
            }
            subprocess.run([sys.executable, __file__, "--load", json.dumps(load_args)], check=True)
        logged = sum(1 for line in (folder / "service.log").open() if "http.request.complete" in line)
        results = json.loads((folder / "results.json").read_text())
    print(f"service log: {logged} request lines")
    if args.save:
        args.save.write_text(json.dumps(results, indent=1))
    print("\nbudgets (measured / budget)")
    print("\n".join(budget_lines(results, baseline)))
    if args.upstream:
        print("\nside by side, same sitting, same load (what a user would pick instead of us)")
        print("\n".join(side_by_side_lines(results)))


if __name__ == "__main__":
    main()
