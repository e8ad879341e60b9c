"""Distributed jobs benchmark: throughput, queue latency and database load with 1, 2 and 4 worker processes.

Creates a fresh PostgreSQL database (next to the one `--url` names, default `CHAPKIT_BENCH_POSTGRES_URL`
or `postgresql+asyncpg://postgres@127.0.0.1:5432/test`), and for each worker count starts that many
`chapkit worker distributed_service:app` processes (`bench/distributed_service.py`, on
`CHAPKIT_JOBS_BACKEND=procrastinate`), then measures two phases:

- **trivial**: `--jobs` jobs of a module-level no-op function, submitted from this process through the
  scheduler (`open_storage(url, jobs=JobsSettings(backend="procrastinate"))`, `add_job`);
- **train**: `--train-jobs` ML `$train` jobs (a one-number model on 10 rows) posted over HTTP by
  `--clients` clients to one `chapkit serve distributed_service:app` API process.

For each phase it prints jobs/s (first submission to last finished record), the queue latency p50/p99
(`submitted_at` -> `started_at` in the job records; a burst queues, so this includes the backlog), the
database load per job from `pg_stat_database` (transactions, rows inserted/updated/deleted) and
`pg_stat_statements` when that is loaded, and the most connections the database had open during the
phase. Every process of a phase is stopped before the counters are read (PostgreSQL flushes a backend's
counters when it exits), so the load includes the processes' start-up and shutdown, and their
heartbeats and queue polls for the duration of the phase. The database is dropped at the end.

    .venv/bin/python bench/distributed.py [--jobs 500] [--train-jobs 100] [--workers 1,2,4] [--concurrency 4] [--quick]

Not run in CI: it prints numbers for the notes (docs/scale-out.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from chapkit.bootstrap.jobs_backend import JobsSettings
from chapkit.embedding import open_storage

HERE = Path(__file__).resolve().parent
SERVICE = "distributed_service:app"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
ML = "/api/v1/ml"
COUNTERS = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_returned")


@dataclass
class Phase:
    """One phase's figures."""

    name: str
    workers: int
    jobs: int
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    failed: int = 0
    connections: int = 0
    load: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- database


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(base_url: str) -> str:
    """Create `bench_dist_<random>` on the server of `base_url`; return its SQLAlchemy URL."""
    name = f"bench_dist_{os.urandom(4).hex()}"
    connection = await asyncpg.connect(asyncpg_dsn(base_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(base_url: str, url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(asyncpg_dsn(base_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def statements_available(connection: asyncpg.Connection) -> bool:
    """Whether `pg_stat_statements` can be read (it must be in shared_preload_libraries)."""
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await connection.fetchval("SELECT count(*) FROM pg_stat_statements")
    except asyncpg.PostgresError:
        return False
    return True


async def counters(connection: asyncpg.Connection, with_statements: bool) -> dict[str, float]:
    """This database's cumulative counters (after letting exited backends' counters land)."""
    await connection.execute("SELECT pg_stat_clear_snapshot()")
    row = await connection.fetchrow(
        f"SELECT {', '.join(COUNTERS)} FROM pg_stat_database WHERE datname = current_database()"
    )
    values = {name: float(row[name]) for name in COUNTERS}
    if with_statements:
        calls = await connection.fetchval(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database()"
        )
        values["statements"] = float(calls)
    return values


async def finished_count(connection: asyncpg.Connection) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM job_records WHERE status IN ('completed', 'failed', 'canceled')"
    )
    return count


async def wait_finished(connection: asyncpg.Connection, phase: Phase, timeout: float) -> None:
    """Wait for the phase's jobs to finish, noting the most connections the database had meanwhile."""
    jobs = phase.jobs
    deadline = time.monotonic() + timeout
    while await finished_count(connection) < jobs:
        open_now = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        phase.connections = max(phase.connections, int(open_now))
        if time.monotonic() > deadline:
            raise SystemExit(f"only {await finished_count(connection)} of {jobs} jobs finished in {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def measure_records(connection: asyncpg.Connection, phase: Phase) -> None:
    """Throughput and queue latency from the phase's records, then forget them for the next phase."""
    row = await connection.fetchrow(
        """
        SELECT extract(epoch FROM max(finished_at) - min(submitted_at)) AS seconds,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - submitted_at)) AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - submitted_at)) AS p99,
               count(*) FILTER (WHERE status <> 'completed') AS failed
        FROM job_records
        """
    )
    phase.seconds = float(row["seconds"])
    phase.p50_ms = float(row["p50"]) * 1000
    phase.p99_ms = float(row["p99"]) * 1000
    phase.failed = int(row["failed"])
    await connection.execute("DELETE FROM job_records")


# ---------------------------------------------------------------------------------------------- processes


def child_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "CHAPKIT_DATABASE_URL": url,
        "DATABASE_URL": url,
        "CHAPKIT_JOBS_BACKEND": "procrastinate",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }


def start(arguments: list[str], url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "chapkit", *arguments],
            cwd=HERE,
            env=child_env(url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(processes: list[subprocess.Popen[bytes]], timeout: float = 20.0) -> None:
    """SIGINT each process, then kill whichever has not exited after `timeout` seconds."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_workers(connection: asyncpg.Connection, workers: list[subprocess.Popen[bytes]], log: Path) -> None:
    """Wait until each worker has registered with procrastinate (it is then fetching jobs)."""
    deadline = time.monotonic() + 60
    while True:
        exists = await connection.fetchval("SELECT to_regclass('procrastinate_workers') IS NOT NULL")
        if exists and await connection.fetchval("SELECT count(*) FROM procrastinate_workers") >= len(workers):
            return
        if any(worker.poll() is not None for worker in workers) or time.monotonic() > deadline:
            raise SystemExit(f"a worker did not start; its output:\n{tail(log)}")
        await asyncio.sleep(0.1)


def tail(log: Path) -> str:
    """The end of the processes' output, for a failure's message."""
    return log.read_text()[-3000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_api(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while True:
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the API process did not start; its output:\n{tail(log)}")
            await asyncio.sleep(0.1)


# ---------------------------------------------------------------------------------------------- phases


async def trivial_phase(url: str, connection: asyncpg.Connection, phase: Phase, args: argparse.Namespace) -> None:
    """Submit `phase.jobs` no-op jobs through the scheduler of this process; workers run them."""
    sys.path.insert(0, str(HERE))
    from distributed_service import noop

    async with open_storage(url, jobs=JobsSettings(backend="procrastinate")) as storage:
        scheduler = storage.scheduler
        remaining = iter(range(phase.jobs))

        async def submitter() -> None:
            for _ in remaining:
                await scheduler.add_job(noop)

        await asyncio.gather(*(submitter() for _ in range(args.clients)))
        await wait_finished(connection, phase, timeout=120)


async def train_phase(
    url: str, connection: asyncpg.Connection, phase: Phase, args: argparse.Namespace, log: Path
) -> None:
    """Post `phase.jobs` `$train` requests to one API process; workers run them."""
    port = free_port()
    server = start(["serve", SERVICE, "--host", "127.0.0.1", "--port", str(port)], url, log)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_api(base, server, log)
        data = {"columns": ["x", "y"], "data": [[float(i), float(2 * i + 1)] for i in range(10)]}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            config = await client.post("/api/v1/configs", json={"name": "bench", "data": {}})
            config.raise_for_status()
            body = {"config_id": config.json()["id"], "data": data}
            remaining = iter(range(phase.jobs))

            async def submitter() -> None:
                for _ in remaining:
                    (await client.post(f"{ML}/$train", json=body)).raise_for_status()

            await asyncio.gather(*(submitter() for _ in range(args.clients)))
        await wait_finished(connection, phase, timeout=180)
    finally:
        stop([server])


async def run_phase(url: str, name: str, workers: int, jobs: int, args: argparse.Namespace, log: Path) -> Phase:
    phase = Phase(name=name, workers=workers, jobs=jobs)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        with_statements = args.statements
        before = await counters(connection, with_statements)
        processes = [
            start(["worker", SERVICE, "--concurrency", str(args.concurrency)], url, log) for _ in range(workers)
        ]
        try:
            await wait_workers(connection, processes, log)
            if name == "trivial":
                await trivial_phase(url, connection, phase, args)
            else:
                await train_phase(url, connection, phase, args, log)
        finally:
            stop(processes)
        await asyncio.sleep(0.5)  # the exited backends' counters land
        after = await counters(connection, with_statements)
        phase.load = {key: (after[key] - before[key]) / jobs for key in after}
        await measure_records(connection, phase)
    finally:
        await connection.close()
    return phase


def print_table(workers: int, phases: list[Phase], concurrency: int) -> None:
    print(f"\n{workers} worker process{'es' if workers > 1 else ''} (concurrency {concurrency} each)")
    header = (
        f"{'phase':<8} {'jobs':>5} {'seconds':>8} {'jobs/s':>8} {'lat p50':>9} {'lat p99':>9} {'failed':>6} "
        f"{'xact/job':>9} {'ins/job':>8} {'upd/job':>8} {'del/job':>8} {'conns':>6}"
    )
    if any("statements" in phase.load for phase in phases):
        header += f" {'stmt/job':>9}"
    print(header)
    print("-" * len(header))
    for phase in phases:
        load = phase.load
        line = (
            f"{phase.name:<8} {phase.jobs:>5} {phase.seconds:>8.2f} {phase.jobs / phase.seconds:>8.1f} "
            f"{phase.p50_ms:>7.0f}ms {phase.p99_ms:>7.0f}ms {phase.failed:>6} "
            f"{load['xact_commit'] + load['xact_rollback']:>9.1f} {load['tup_inserted']:>8.1f} "
            f"{load['tup_updated']:>8.1f} {load['tup_deleted']:>8.1f} {phase.connections:>6}"
        )
        if "statements" in load:
            line += f" {load['statements']:>9.1f}"
        print(line, flush=True)


async def main_async(args: argparse.Namespace) -> None:
    url = await create_database(args.url)
    started = time.perf_counter()
    try:
        # Migrations and procrastinate's schema, once, before anything is measured.
        async with open_storage(url, jobs=JobsSettings(backend="procrastinate")):
            pass
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            args.statements = await statements_available(connection)
            server_version = await connection.fetchval("SHOW server_version")
        finally:
            await connection.close()
        print(
            f"PostgreSQL {server_version}; python {sys.version.split()[0]}; cpus {os.cpu_count()}; "
            f"pg_stat_statements {'on' if args.statements else 'not loaded (transactions stand in for statements)'}"
        )
        with tempfile.TemporaryDirectory() as directory:
            log = Path(directory) / "processes.log"
            for workers in args.workers:
                phases = [
                    await run_phase(url, "trivial", workers, args.jobs, args, log),
                    await run_phase(url, "train", workers, args.train_jobs, args, log),
                ]
                print_table(workers, phases, args.concurrency)
        print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    finally:
        await drop_database(args.url, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("CHAPKIT_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--jobs", type=int, default=500, help="trivial jobs per worker count")
    parser.add_argument("--train-jobs", type=int, default=100, help="$train jobs per worker count")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs each worker runs at once")
    parser.add_argument("--clients", type=int, default=8, help="concurrent submitters")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 50 + 10 jobs, 1 and 2 workers")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.train_jobs, args.workers = 50, 10, "1,2"
    args.workers = [int(count) for count in args.workers.split(",")]
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
