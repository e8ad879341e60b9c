"""What the layers under a GET config by id cost, in-process: the floor the request path stands on.

`bench/http_load.py` measures a served GET against a bare FastAPI route. This script measures, in one
process and one sitting, the CPU of each layer a GET by id cannot skip on an SQLite file (medians of
rounds of calls, no HTTP), so that the request-path budget can be read against what the storage
stack alone costs:

- a unit of work opened and closed, no statement (an `AsyncSession` made and closed);
- the same with a pooled connection checked out and returned;
- the same with one Core `SELECT` of the row by id;
- the same with the row read as the entity (what `find_by_id` does);
- the manager's `find_by_id` (the entity to the output schema), and its JSON;
- one request log line, rendered as JSON and written to a file.

    .venv/bin/python bench/request_floor.py [--calls 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select


async def per_await(calls: int, rounds: int, call: Callable[[], Awaitable[Any]]) -> float:
    """Median CPU microseconds per `await call()` over `rounds` rounds of `calls` calls (after a warm-up).

    Everything is measured this way, the log line too (an `await` of a coroutine costs well under a
    microsecond, the same for every line).
    """
    for _ in range(calls // 10):
        await call()
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            await call()
        samples.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(samples)


async def storage_layers(url: str, calls: int, rounds: int) -> list[tuple[str, float]]:
    from chapkit import BaseConfig, ServiceBuilder, ServiceInfo
    from chapkit.bootstrap.dependencies import current_runtime
    from chapkit.domain.config import Config, ConfigIn

    class FloorConfig(BaseConfig):
        epochs: int
        rate: float = 0.1

    app = ServiceBuilder(info=ServiceInfo(display_name="floor")).with_database(url).with_config(FloorConfig).build()
    async with app.router.lifespan_context(app):
        runtime = current_runtime()
        configs = runtime.require_services().configs
        async with runtime.unit_of_work(write=True) as uow:
            saved = await configs.manager(uow).save(ConfigIn[FloorConfig](name="floor", data=FloorConfig(epochs=1)))
        config_id = saved.id
        table = inspect(Config).local_table
        by_id = select(table).where(table.c.id == config_id)

        async def unit() -> None:
            async with runtime.unit_of_work():
                pass

        async def connection() -> None:
            async with runtime.unit_of_work() as uow:
                await uow.session.connection()  # type: ignore[attr-defined]

        async def core_select() -> None:
            async with runtime.unit_of_work() as uow:
                (await uow.session.execute(by_id)).one()  # type: ignore[attr-defined]

        async def entity() -> None:
            async with runtime.unit_of_work() as uow:
                await uow.configs.find_by_id(config_id)

        async def manager() -> None:
            async with runtime.unit_of_work() as uow:
                await configs.manager(uow).find_by_id(config_id)

        async def manager_json() -> None:
            async with runtime.unit_of_work() as uow:
                found = await configs.manager(uow).find_by_id(config_id)
                assert found is not None
                found.model_dump_json()

        return [
            ("unit of work opened and closed", await per_await(calls, rounds, unit)),
            ("+ a pooled connection", await per_await(calls, rounds, connection)),
            ("+ one Core SELECT by id", await per_await(calls, rounds, core_select)),
            ("+ the row as the entity (repository find_by_id)", await per_await(calls, rounds, entity)),
            ("+ the output schema (manager find_by_id)", await per_await(calls, rounds, manager)),
            ("+ its JSON", await per_await(calls, rounds, manager_json)),
        ]


async def log_line(calls: int, rounds: int) -> float:
    import structlog

    from chapkit.adapters.observability import configure_logging, get_logger

    configure_logging(access_log=False)
    logger = get_logger("chapkit.adapters.http.middleware")

    async def line() -> None:
        tokens = structlog.contextvars.bind_contextvars(
            request_id="01M97WXM4PY1WTDQPA52JEK4X2", method="GET", path="/api/v1/configs/x", client_host="::1"
        )
        logger.info("http.request.complete", status_code=200, duration_ms=1.23)
        structlog.contextvars.reset_contextvars(**tokens)

    return await per_await(calls, rounds, line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["LOG_FORMAT"] = "json"
    stdout = sys.stdout
    with tempfile.TemporaryDirectory() as directory, open(Path(directory) / "service.log", "w") as log:
        sys.stdout = log  # the log lines (the service's and the measured ones) go to a file, as served
        try:
            logged = asyncio.run(log_line(args.calls, args.rounds))
            url = f"sqlite+aiosqlite:///{directory}/floor.db"
            layers = asyncio.run(storage_layers(url, args.calls, args.rounds))
        finally:
            sys.stdout = stdout
    print(f"CPU per call, median of {args.rounds} rounds of {args.calls} (in-process, SQLite file)")
    for name, micros in [*layers, ("one request log line (JSON, to a file)", logged)]:
        print(f"  {name:<52} {micros:>7.1f} us")


if __name__ == "__main__":
    main()
