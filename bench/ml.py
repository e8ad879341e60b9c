"""ML benchmark: train and predict on 100,000 rows x 10 columns, then batches of small train jobs.

Starts an ML service (MLServiceBuilder, a numpy least-squares model over nine features) in a child
process on an SQLite file (or `--database-url`), and prints:

- for a large train and a large predict: the submission latency (`$train` -> 202), the time until the
  job is completed, and the server's resident and peak memory (VmRSS / VmHWM from /proc);
- for `--batches` batches of `--jobs` small train jobs submitted and awaited by `--clients` concurrent
  clients: jobs/s and the server's memory after each batch; later batches should grow memory by no
  more than a few KB per job (stored models live in the database, not in the server).

    .venv/bin/python bench/ml.py [--rows 100000] [--jobs 300] [--clients 16] [--batches 3] [--database-url URL]

Not run in CI: it prints numbers for the notes. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from chapkit import (
    ArtifactHierarchy,
    BaseConfig,
    FunctionalModelRunner,
    MLServiceBuilder,
    MLServiceInfo,
)

FEATURES = [f"f{i}" for i in range(9)]
COLUMNS = [*FEATURES, "y"]
ML = "/api/v1/ml"


# ---------------------------------------------------------------------------------------------- server


def train(config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, Any]:
    x = np.column_stack([np.ones(len(data)), data[FEATURES].to_numpy(dtype=float)])
    coefficients, *_ = np.linalg.lstsq(x, data["y"].to_numpy(dtype=float), rcond=None)
    return {"coefficients": coefficients.tolist()}


def predict(
    config: BaseConfig, model: dict[str, Any], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    x = np.column_stack([np.ones(len(future)), future[FEATURES].to_numpy(dtype=float)])
    return future.assign(y=x @ np.array(model["coefficients"]))


def serve(database_url: str, port: int) -> None:
    import uvicorn

    app = (
        MLServiceBuilder(
            info=MLServiceInfo(display_name="bench"),
            config_schema=BaseConfig,
            hierarchy=ArtifactHierarchy(name="bench", level_labels={0: "model", 1: "prediction"}),
            runner=FunctionalModelRunner(on_train=train, on_predict=predict),
            database_url=database_url,
            include_logging=False,
        )
        .with_request_size_limit(256 * 1024 * 1024)
        .build()
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# ---------------------------------------------------------------------------------------------- client


def memory_kib(pid: int) -> tuple[int, int]:
    """The process's (VmRSS, VmHWM) in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def frame(rows: int, with_target: bool = True) -> dict[str, Any]:
    rng = random.Random(rows)
    data = []
    for _ in range(rows):
        features = [round(rng.uniform(0, 100), 3) for _ in FEATURES]
        row = features + ([round(sum(features) * 0.5 + rng.gauss(0, 1), 3)] if with_target else [])
        data.append(row)
    return {"columns": COLUMNS if with_target else FEATURES, "data": data}


async def finished(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    while True:
        record: dict[str, Any] = (await client.get(f"/api/v1/jobs/{job_id}")).json()
        if record["status"] in {"completed", "failed", "canceled"}:
            if record["status"] != "completed":
                raise RuntimeError(f"job {job_id} {record['status']}: {record.get('error')}")
            return record
        await asyncio.sleep(0.005)


async def large(client: httpx.AsyncClient, pid: int, config_id: str, rows: int) -> None:
    train_body = {"config_id": config_id, "data": frame(rows)}
    started = time.perf_counter()
    response = await client.post(f"{ML}/$train", json=train_body)
    accepted = time.perf_counter() - started
    response.raise_for_status()
    await finished(client, response.json()["job_id"])
    total = time.perf_counter() - started
    rss, hwm = memory_kib(pid)
    print(
        f"train   {rows:>7} rows x 10: 202 after {accepted:6.2f} s, completed after {total:6.2f} s; "
        f"server RSS {rss / 1024:7.1f} MiB, peak {hwm / 1024:7.1f} MiB"
    )
    model_id = response.json()["model_artifact_id"]

    predict_body = {"model_artifact_id": model_id, "historic": frame(10), "future": frame(rows, with_target=False)}
    started = time.perf_counter()
    response = await client.post(f"{ML}/$predict", json=predict_body)
    accepted = time.perf_counter() - started
    response.raise_for_status()
    record = await finished(client, response.json()["job_id"])
    total = time.perf_counter() - started
    read_started = time.perf_counter()
    stored = (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()
    read = time.perf_counter() - read_started
    assert len(stored["data"]["predictions"]["data"]) == rows
    rss, hwm = memory_kib(pid)
    print(
        f"predict {rows:>7} rows x 9:  202 after {accepted:6.2f} s, completed after {total:6.2f} s "
        f"(reading the predictions back: {read:.2f} s); server RSS {rss / 1024:7.1f} MiB, peak {hwm / 1024:7.1f} MiB"
    )


async def small_batch(base: str, pid: int, config_id: str, jobs: int, clients: int) -> tuple[float, int]:
    body = {"config_id": config_id, "data": frame(10)}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(jobs):
        queue.put_nowait(index)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while not queue.empty():
                queue.get_nowait()
                response = await client.post(f"{ML}/$train", json=body)
                response.raise_for_status()
                await finished(client, response.json()["job_id"])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return jobs / elapsed, memory_kib(pid)[0]


async def run(base: str, pid: int, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        config_id = (await client.post("/api/v1/configs", json={"name": "bench", "data": {}})).json()["id"]
        rss, _ = memory_kib(pid)
        print(f"server started: RSS {rss / 1024:.1f} MiB")
        await large(client, pid, config_id, args.rows)
    previous = memory_kib(pid)[0]
    for batch in range(1, args.batches + 1):
        rate, rss = await small_batch(base, pid, config_id, args.jobs, args.clients)
        growth = (rss - previous) / args.jobs
        print(
            f"batch {batch}: {args.jobs} small train jobs, {args.clients} clients: {rate:6.1f} jobs/s; "
            f"server RSS {rss / 1024:7.1f} MiB ({growth:+.1f} KiB per job)"
        )
        previous = rss


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'ml.db'}"
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port)])
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the service did not start")
                time.sleep(0.1)
            python = sys.version.split()[0]
            print(f"storage: {url.split(':')[0]}; python {python}; pid {server.pid}; cpus {os.cpu_count()}")
            asyncio.run(run(base, server.pid, args))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
