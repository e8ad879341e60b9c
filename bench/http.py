"""HTTP benchmark: a service with a small custom entity CRUD on an SQLite file, under bounded loopback load.

Starts the service (built with BaseServiceBuilder, served by uvicorn) in a child process, drives it with
`--clients` concurrent httpx clients for a fixed number of requests per phase, and prints for each phase
the throughput, p50/p99 latency and the server's CPU time per request (read from /proc), next to a bare
FastAPI route served by the same process.

    .venv/bin/python bench/http.py [--requests 2000] [--clients 16] [--no-logging]
"""

from __future__ import annotations

import os.path
import sys

# Run as a script, this directory comes first on sys.path and this file would shadow the stdlib `http`.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from chapkit import (
    BaseManager,
    BaseRepository,
    BaseServiceBuilder,
    CrudRouter,
    Entity,
    EntityIn,
    EntityOut,
    ServiceInfo,
    get_session,
)

ITEMS = "/api/v1/items"


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


def build_app(database_url: str, logging: bool) -> Any:
    """The benchmarked service: a custom entity CRUD written as a user would, plus a bare route."""

    async def item_manager(session: AsyncSession = Depends(get_session)) -> BaseManager[Any, Any, Any, Any]:
        return BaseManager(BaseRepository(session, Item), Item, ItemOut)

    builder = BaseServiceBuilder(info=ServiceInfo(display_name="bench")).with_database(database_url).with_health()
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def phase(
    name: str,
    pid: int,
    requests: int,
    clients: int,
    call: Callable[[httpx.AsyncClient, int], Awaitable[None]],
    base: str,
) -> None:
    """Run `requests` calls over `clients` concurrent connections and print the numbers."""
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for index in counter:
                start = time.perf_counter()
                await call(client, index)
                latencies.append(time.perf_counter() - start)

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{name:<22} {requests / elapsed:>9.0f} req/s   p50 {p50:>7.2f} ms   p99 {p99:>7.2f} ms   "
        f"server CPU {cpu / requests * 1000:>6.3f} ms/req"
    )


async def drive(pid: int, base: str, requests: int, clients: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(300):
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        else:
            raise SystemExit("server did not start")

    created: list[str] = []

    async def bare(client: httpx.AsyncClient, index: int) -> None:
        response = await client.get("/bare")
        assert response.status_code == 200

    async def post(client: httpx.AsyncClient, index: int) -> None:
        response = await client.post(ITEMS, json={"name": f"item {index}", "value": index / 3})
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])

    async def get_by_id(client: httpx.AsyncClient, index: int) -> None:
        response = await client.get(f"{ITEMS}/{created[index % len(created)]}")
        assert response.status_code == 200

    async def list_page(client: httpx.AsyncClient, index: int) -> None:
        response = await client.get(ITEMS, params={"page": index % 20 + 1, "size": 50})
        assert response.status_code == 200 and len(response.json()["items"]) == 50

    print(f"{requests} requests per phase, {clients} concurrent clients, loopback, SQLite file")
    await phase("warm-up", pid, 200, clients, bare, base)
    await phase("bare FastAPI route", pid, requests, clients, bare, base)
    await phase("POST item", pid, requests, clients, post, base)
    await phase("GET item by id", pid, requests, clients, get_by_id, base)
    await phase("GET list page (50)", pid, requests, clients, list_page, base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--no-logging", action="store_true", help="serve without request logging")
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
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        command = [sys.executable, __file__, "--serve", str(port), url]
        if args.no_logging:
            command.append("--no-logging")
        env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            print(f"request logging: {'off' if args.no_logging else 'on (JSON, INFO)'}")
            asyncio.run(drive(server.pid, f"http://127.0.0.1:{port}", args.requests, args.clients))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
