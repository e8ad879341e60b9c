"""Job throughput and memory: submit N trivial jobs, wait for all, print jobs/s and resident memory.

Runs on the memory store and on a SQLite file (and without a store, as the reference). Each store runs
several rounds; between rounds finished records age out (`record_ttl`) and results are bounded
(`result_max_count`), so resident memory should stop growing after the first round.

    python bench/jobs.py [--jobs 10000] [--rounds 3] [--stores none,memory,sqlite] [--kind async|sync] [--tracemalloc]

RSS can drift by a few MiB per round with `--kind sync` (the allocator's per-thread arenas); the traced
Python heap (`--tracemalloc`) shows whether objects are kept per job.

Budget (D16): >= 500 jobs/s on the memory store, >= 200 jobs/s on a SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from chapkit import AIOJobScheduler, InMemoryJobRecordStore, JobRecordStore, JobStatus
from chapkit.adapters.sql import SqlJobRecordStore, create_database

BUDGET = {"memory": 500.0, "sqlite": 200.0}


def rss_mib() -> float:
    """Current resident set size of this process in MiB (peak RSS where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def trivial_async(n: int) -> int:
    return n


def trivial_sync(n: int) -> int:
    return n


async def one_round(scheduler: AIOJobScheduler, jobs: int, kind: str) -> float:
    target = trivial_async if kind == "async" else trivial_sync
    start = time.perf_counter()
    ids = [await scheduler.add_job(target, n) for n in range(jobs)]
    for job_id in ids:
        await scheduler.wait(job_id)
    await scheduler.flush()  # every record durable before the clock stops
    elapsed = time.perf_counter() - start
    last = await scheduler.get_record(ids[-1])
    assert last.status == JobStatus.completed, last
    return jobs / elapsed


async def bench_store(name: str, jobs: int, rounds: int, kind: str, record_ttl: float) -> bool:
    database = None
    store: JobRecordStore | None = None
    directory = tempfile.TemporaryDirectory()
    if name == "memory":
        store = InMemoryJobRecordStore()
    elif name == "sqlite":
        database = create_database(f"sqlite+aiosqlite:///{Path(directory.name) / 'bench.db'}")
        await database.init()
        store = SqlJobRecordStore(database)
    scheduler = AIOJobScheduler(store=store, record_ttl=record_ttl, heartbeat_interval=record_ttl / 4)
    await scheduler.start()
    gc.collect()
    before = rss_mib()
    print(f"\n[{name} store, {kind} jobs] RSS before: {before:.1f} MiB")
    rates = []
    for number in range(1, rounds + 1):
        rate = await one_round(scheduler, jobs, kind)
        rates.append(rate)
        kept = len(await scheduler.get_all_records())
        gc.collect()
        traced = (
            f", Python heap {tracemalloc.get_traced_memory()[0] / 2**20:5.1f} MiB" if tracemalloc.is_tracing() else ""
        )
        print(
            f"  round {number}: {jobs} jobs, {rate:6.0f} jobs/s, records kept {kept}, RSS {rss_mib():6.1f} MiB{traced}"
        )
        await asyncio.sleep(record_ttl * 1.6)  # let finished records age out before the next round
    gc.collect()
    after = rss_mib()
    await scheduler.shutdown()
    if database is not None:
        await database.dispose()
    directory.cleanup()
    budget = BUDGET.get(name)
    worst = min(rates)
    verdict = "" if budget is None else f" (budget {budget:.0f}/s: {'ok' if worst >= budget else 'MISSED'})"
    print(f"  RSS after: {after:.1f} MiB ({after - before:+.1f} MiB); slowest round {worst:.0f} jobs/s{verdict}")
    return budget is None or worst >= budget


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stores", default="none,memory,sqlite")
    parser.add_argument("--kind", choices=["async", "sync"], default="async")
    parser.add_argument("--record-ttl", type=float, default=1.0, help="seconds finished records are kept")
    parser.add_argument("--tracemalloc", action="store_true", help="also print the traced Python heap (slower)")
    args = parser.parse_args()
    if args.tracemalloc:
        tracemalloc.start()
    ok = True
    for name in args.stores.split(","):
        ok &= await bench_store(name.strip(), args.jobs, args.rounds, args.kind, args.record_ttl)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
