"""ML benchmark: what the framework costs around a model, against its budgets, here and on chapkit 2.4.1.

Every service is the same inline script (`SERVICE`: `MLServiceBuilder`, a `FunctionalModelRunner` over a
numpy least-squares model on nine features, SQLite file), started in a child process from a fresh
directory. The services measured in one run, side by side:

- **chapkit**: this checkout;
- **main-before** (`--before DIR`): the same script under this interpreter with DIR (a worktree of
  the commit compared against) first on PYTHONPATH (`--also NAME=DIR` adds more such checkouts);
- **chapkit 2.4.1** (the newer upstream on PyPI) under Python 3.13 (`bench/upstream.py` finds that
  environment; `--no-upstream` skips it), and **chapkit py3.13**, this checkout's wheel on the same
  Python (`bench/upstream.py` builds that venv): the figures against 2.4.1 compare these two.

Figures (medians of `--rounds`):

1. **The framework's CPU per trivial job**: the server's CPU time (user + system from /proc) less the
   model's own (its functions time their thread's CPU) per `$train` of ten rows (submit, run, store the
   model, link it to its config) and per `$predict` of ten rows (submit, run, store the predictions
   under the model): `--jobs` jobs submitted one after another, awaited by polling the last one every
   50 ms, until the server's CPU stops moving. All services run at once and take turns round by round
   (the order reversed every other round), so a drift of the machine's speed meets them alike.
   Budget: chapkit <= 0.6x main-before; it also prints the ratio to chapkit 2.4.1 (the issue's "a
   third of the reference's").
2. **A 100,000-row train and predict over HTTP** (`--rows`): the time from sending the body until the
   job is completed, against the model's own time (the model functions time themselves), and the
   server's peak memory during it (VmHWM, reset before the request) above its resident memory before
   it, against the frame's size (`DataFrame.memory_usage(deep=True)`). Budgets: <= 1.5x the model's
   time, <= 2x the frame's size.
3. **Forecast samples**: a `$predict` naming `artifact_id` (chap-core's call) for 100 locations x 12
   periods whose model returns 1,000 samples per row: the time until the job is completed (stored),
   and the time to read the prediction artifact back (served). Budget: no slower than chapkit 2.4.1.

    .venv/bin/python bench/ml.py [--before DIR] [--no-upstream] [--rounds 5] [--jobs 100] [--rows 100000]

Not run in CI: it prints numbers for the notes. Linux only (reads /proc). Compare figures of one run only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from upstream import clean_env, free_port, side_by_side, started

FEATURES = [f"f{i}" for i in range(9)]
COLUMNS = [*FEATURES, "y"]
ML = "/api/v1/ml"
SAMPLES = 1000
LOCATIONS = 100
PERIODS = 12
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
UPSTREAM = "chapkit 2.4.1"
OURS_313 = "chapkit py3.13"

SERVICE = '''
"""A bench ML service: least squares over nine features; 1,000 forecast samples for chap-shaped futures."""

import os
import time

import uvicorn
from chapkit import ArtifactHierarchy, BaseConfig
from chapkit.api import AssessedStatus, MLServiceBuilder, MLServiceInfo, ModelMetadata

try:
    from chapkit.ml import FunctionalModelRunner  # chapkit 2.4.1
except ImportError:
    from chapkit.api import FunctionalModelRunner

FEATURES = [f"f{i}" for i in range(9)]
TIMES = os.environ["BENCH_MODEL_TIMES"]


def _took(what, started):
    """Append the model's own wall time and CPU time (of its thread) since `started`."""
    wall, cpu = started
    with open(TIMES, "a") as times:
        times.write(f"{what} {time.perf_counter() - wall} {time.thread_time() - cpu}\\n")


def _pandas(frame):
    """chapkit 2.4.1 hands models its own DataFrame: pandas for the model (the framework's cost, not timed)."""
    return frame.to_pandas() if hasattr(frame, "to_pandas") else frame


def _returned(frame, given):
    """What the framework takes back: its own DataFrame on chapkit 2.4.1, pandas here."""
    return type(given).from_pandas(frame) if hasattr(given, "to_pandas") else frame


async def on_train(config, data, geo=None):
    import numpy as np

    data = _pandas(data)
    started = time.perf_counter(), time.thread_time()
    x = np.column_stack([np.ones(len(data)), data[FEATURES].to_numpy(dtype=float)])
    coefficients, *_ = np.linalg.lstsq(x, data["y"].to_numpy(dtype=float), rcond=None)
    model = {"coefficients": coefficients.tolist()}
    _took("train", started)
    return model


async def on_predict(config, model, historic, future, geo=None):
    import numpy as np
    import pandas as pd

    given, future = future, _pandas(future)
    started = time.perf_counter(), time.thread_time()
    x = np.column_stack([np.ones(len(future)), future[FEATURES].to_numpy(dtype=float)])
    predicted = x @ np.array(model["coefficients"])
    if "location" in future.columns:  # a forecast for CHAP: samples around the point forecast
        count = SAMPLES if len(future) >= 1000 else 1  # one sample for a small (trivial) future
        draws = predicted[:, None] + np.random.default_rng(0).normal(0.0, 1.0, (len(future), count))
        samples = pd.DataFrame(draws, columns=[f"sample_{i}" for i in range(count)], index=future.index)
        out = pd.concat([future[["location", "time_period"]], samples], axis=1)
    else:
        out = future.assign(y=predicted)
    _took("predict", started)
    return _returned(out, given)


SAMPLES = __SAMPLES__
builder = MLServiceBuilder(
    info=MLServiceInfo(
        id="bench",
        display_name="bench",
        version="0.1.0",
        model_metadata=ModelMetadata(author="bench", author_assessed_status=AssessedStatus.red),
        period_type="monthly",
    ),
    config_schema=BaseConfig,
    hierarchy=ArtifactHierarchy(name="bench", level_labels={0: "model", 1: "prediction"}),
    runner=FunctionalModelRunner(on_train=on_train, on_predict=on_predict),
    database_url="sqlite+aiosqlite:///bench.db",
    include_logging=False,
)
if hasattr(builder, "with_request_size_limit"):
    builder = builder.with_request_size_limit(256 * 1024 * 1024)
uvicorn.run(builder.build(), host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
'''.replace("__SAMPLES__", str(SAMPLES))


# ---------------------------------------------------------------------------------------------- the server


@dataclass
class Server:
    """A running bench service: its process id, base URL and the file its model writes its times to."""

    name: str
    pid: int
    base: str
    times: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def memory_kib(self) -> tuple[int, int]:
        """The process's (VmRSS, VmHWM) in KiB."""
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
        return values["VmRSS"], values["VmHWM"]

    def reset_peak(self) -> None:
        """Reset VmHWM to the current resident size (Linux: write 5 to clear_refs)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def model_times(self) -> list[tuple[str, float, float]]:
        """Every model call so far, as the model wrote it: (train or predict, wall seconds, CPU seconds)."""
        if not self.times.exists():
            return []
        lines = map(str.split, self.times.read_text().splitlines())
        return [(kind, float(wall), float(cpu)) for kind, wall, cpu in lines]

    def model_seconds(self, what: str) -> float:
        """The model's own (wall) time of its last `what` (train or predict)."""
        return [wall for kind, wall, _ in self.model_times() if kind == what][-1]

    async def settled_cpu(self) -> float:
        """The server's CPU time once it stopped moving (jobs finish their last writes after their status)."""
        last = self.cpu_seconds()
        for _ in range(30):
            await asyncio.sleep(0.2)
            now = self.cpu_seconds()
            if now == last:
                break
            last = now
        return last


# ---------------------------------------------------------------------------------------------- the client


def frame(rows: int, with_target: bool = True) -> dict[str, Any]:
    rng = random.Random(rows)
    data = []
    for _ in range(rows):
        features = [round(rng.uniform(0, 100), 3) for _ in FEATURES]
        row = features + ([round(sum(features) * 0.5 + rng.gauss(0, 1), 3)] if with_target else [])
        data.append(row)
    return {"columns": COLUMNS if with_target else FEATURES, "data": data}


def chap_future(locations: int, periods: int) -> dict[str, Any]:
    """`locations` x `periods` months of the nine features, as chap-core sends a future."""
    rng = random.Random(7)
    data = [
        [f"location_{place}", f"2025-{month:02d}", *(round(rng.uniform(0, 100), 3) for _ in FEATURES)]
        for place in range(locations)
        for month in range(1, periods + 1)
    ]
    return {"columns": ["location", "time_period", *FEATURES], "data": data}


def frame_bytes(body: dict[str, Any]) -> int:
    """`DataFrame.memory_usage(deep=True)` of a JSON frame, as the model receives it."""
    import pandas as pd

    return int(pd.DataFrame(body["data"], columns=body["columns"]).memory_usage(deep=True).sum())


async def finished(client: httpx.AsyncClient, job_id: str, pause: float = 0.01) -> dict[str, Any]:
    while True:
        record: dict[str, Any] = (await client.get(f"/api/v1/jobs/{job_id}")).json()
        if record["status"] in {"completed", "failed", "canceled"}:
            if record["status"] != "completed":
                raise RuntimeError(f"job {job_id} {record['status']}: {record.get('error')}")
            return record
        await asyncio.sleep(pause)


async def post(client: httpx.AsyncClient, path: str, body: bytes) -> dict[str, Any]:
    response = await client.post(path, content=body, headers={"content-type": "application/json"})
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


@dataclass
class Figures:
    """One service's figures, each a list of per-round values."""

    cpu_train_ms: list[float] = field(default_factory=list)
    cpu_predict_ms: list[float] = field(default_factory=list)
    large: dict[str, dict[str, float]] = field(default_factory=dict)
    stored_s: list[float] = field(default_factory=list)
    served_s: list[float] = field(default_factory=list)


async def trivial_cpu(client: httpx.AsyncClient, server: Server, path: str, body: bytes, jobs: int) -> float:
    """The framework's CPU (ms) per job: `jobs` submitted one after another, the last awaited, the server settled.

    The server's CPU time less the model's own (the CPU time of the model functions, which run on the
    server's event loop thread).
    """
    before = await server.settled_cpu()
    calls = len(server.model_times())
    ids = [(await post(client, path, body))["job_id"] for _ in range(jobs)]
    await finished(client, ids[-1], pause=0.05)
    used = await server.settled_cpu() - before
    for job_id in ids:  # all of them completed (outside the measurement)
        await finished(client, job_id, pause=0.05)
    model = sum(cpu for _, _, cpu in server.model_times()[calls:])
    return (used - model) * 1000 / jobs


async def large(client: httpx.AsyncClient, server: Server, what: str, body: bytes, rows: int) -> dict[str, float]:
    """One large job: time to completion, the model's own time, server CPU and peak memory above resident."""
    await server.settled_cpu()
    rss, _ = server.memory_kib()
    server.reset_peak()
    cpu = server.cpu_seconds()
    started_at = time.perf_counter()
    answer = await post(client, f"{ML}/${what}", body)
    await finished(client, answer["job_id"], pause=0.005)
    elapsed = time.perf_counter() - started_at
    cpu = await server.settled_cpu() - cpu
    _, peak = server.memory_kib()
    model = server.model_seconds(what)
    return {"elapsed": elapsed, "model": model, "cpu": cpu, "extra_mib": (peak - rss) / 1024}


@dataclass
class Measured:
    """A started service with its client, a config, a trained model and the trivial jobs' bodies."""

    server: Server
    client: httpx.AsyncClient
    config_id: str
    model_id: str
    small_train: bytes
    small_predict: bytes
    figures: Figures = field(default_factory=Figures)


async def prepared(server: Server, client: httpx.AsyncClient, bodies: dict[str, Any]) -> Measured:
    """A config and a trained model on `server`, and one trivial `$predict` run (warm)."""
    config = (await client.post("/api/v1/configs", json={"name": "bench", "data": {}})).json()
    config_id = config["id"]
    small_train = json.dumps({"config_id": config_id, "data": bodies["small"]}).encode()
    answer = await post(client, f"{ML}/$train", small_train)
    await finished(client, answer["job_id"])
    model_id = answer["artifact_id"]
    small_predict = json.dumps(
        {"artifact_id": model_id, "historic": bodies["small"], "future": bodies["small_future"]}
    ).encode()
    await finished(client, (await post(client, f"{ML}/$predict", small_predict))["job_id"])  # warm
    return Measured(server, client, config_id, model_id, small_train, small_predict)


async def trivial_rounds(sessions: list[Measured], args: argparse.Namespace) -> None:
    """`--rounds` rounds of trivial jobs; in each, every service in turn, the order reversed every other round.

    The services run side by side, so a drift of the machine's speed meets them all alike.
    """
    for number in range(args.rounds):
        for session in sessions if number % 2 == 0 else reversed(sessions):
            client, server, figures = session.client, session.server, session.figures
            train = await trivial_cpu(client, server, f"{ML}/$train", session.small_train, args.jobs)
            predict = await trivial_cpu(client, server, f"{ML}/$predict", session.small_predict, args.jobs)
            figures.cpu_train_ms.append(train)
            figures.cpu_predict_ms.append(predict)


async def forecasts_and_large_jobs(session: Measured, args: argparse.Namespace, bodies: dict[str, Any]) -> None:
    """The forecast's store and serve times (`--rounds` each) and the two large jobs, on one service."""
    server, client, figures = session.server, session.client, session.figures
    forecast = json.dumps(
        {"artifact_id": session.model_id, "historic": bodies["small"], "future": bodies["chap_future"]}
    ).encode()
    for _ in range(args.rounds):
        started_at = time.perf_counter()
        answer = await post(client, f"{ML}/$predict", forecast)
        await finished(client, answer["job_id"], pause=0.005)
        figures.stored_s.append(time.perf_counter() - started_at)
        started_at = time.perf_counter()
        response = await client.get(f"/api/v1/artifacts/{answer['artifact_id']}")
        response.raise_for_status()
        figures.served_s.append(time.perf_counter() - started_at)
        assert len(response.content) > LOCATIONS * PERIODS * SAMPLES * 5

    large_train = json.dumps({"config_id": session.config_id, "data": bodies["large"]}).encode()
    train = await large(client, server, "train", large_train, args.rows)
    answer = await post(client, f"{ML}/$train", large_train)
    await finished(client, answer["job_id"])
    # chap-core's `artifact_id` would ask this checkout for a forecast (location, period, samples);
    # chapkit 2.4.1 knows only that name.
    model_key = "artifact_id" if server.name == UPSTREAM else "model_artifact_id"
    large_predict = json.dumps(
        {model_key: answer["artifact_id"], "historic": bodies["small"], "future": bodies["large_future"]}
    ).encode()
    predict = await large(client, server, "predict", large_predict, args.rows)
    figures.large = {"train": train, "predict": predict}


async def run_services(
    services: list[tuple[str, list[str], dict[str, str]]], args: argparse.Namespace, bodies: dict[str, Any]
) -> dict[str, Figures]:
    """Start every service, each in a fresh directory; measure them side by side; stop them."""
    with contextlib.ExitStack() as stack:
        sessions = []
        for name, command, extra_env in services:
            directory = Path(tempfile.mkdtemp(prefix="chapkit-bench-ml-"))
            stack.callback(shutil.rmtree, directory, ignore_errors=True)
            (directory / "service.py").write_text(SERVICE)
            times = directory / "model-times.txt"
            port = free_port()
            env = clean_env(port, BENCH_MODEL_TIMES=str(times), **extra_env)
            process = stack.enter_context(started([*command, str(directory / "service.py")], directory, env))
            server = Server(name, process.pid, f"http://127.0.0.1:{port}", times)
            client = httpx.AsyncClient(base_url=server.base, timeout=600)
            sessions.append(await prepared(server, client, bodies))
        try:
            await trivial_rounds(sessions, args)
            for session in sessions:
                await forecasts_and_large_jobs(session, args, bodies)
                print(f"  {session.server.name}: measured", file=sys.stderr)
        finally:
            for session in sessions:
                await session.client.aclose()
        return {session.server.name: session.figures for session in sessions}


# ---------------------------------------------------------------------------------------------- the report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: dict[str, Figures], rows: int, frame_sizes: dict[str, int]) -> None:
    median: Callable[[list[float]], float] = statistics.median
    ours = results["chapkit"]
    before = results.get("main-before")
    upstream = results.get(UPSTREAM)
    # Against chapkit 2.4.1, this checkout on the same Python (3.13) when it was measured.
    peer_name = OURS_313 if OURS_313 in results else "chapkit"
    peer = results[peer_name]
    print("\nThe framework's CPU per trivial job (server user+system less the model's; ms per job, median):")
    print("  " + " " * 10 + "".join(f"{name:>16}" for name in results))
    for label, pick in (("$train", "cpu_train_ms"), ("$predict", "cpu_predict_ms")):
        print(f"  {label:10}" + "".join(f"{median(getattr(figures, pick)):16.2f}" for figures in results.values()))
    for name, figures in results.items():
        for label, pick in (("$train", "cpu_train_ms"), ("$predict", "cpu_predict_ms")):
            print(f"    {name} {label} rounds: " + " ".join(f"{value:.2f}" for value in getattr(figures, pick)))
    for label, pick in (("$train", "cpu_train_ms"), ("$predict", "cpu_predict_ms")):
        if before:
            ratio = median(getattr(ours, pick)) / median(getattr(before, pick))
            print(f"  {label} CPU, chapkit / main-before: {ratio:.2f}x (budget <= 0.60x): {verdict(ratio <= 0.6)}")
        if upstream:
            ratio = median(getattr(peer, pick)) / median(getattr(upstream, pick))
            print(f"  {label} CPU, {peer_name} / 2.4.1: {ratio:.2f}x (budget <= 0.33x): {verdict(ratio <= 1 / 3)}")

    print(f"\n{rows:,}-row jobs over HTTP (body sent -> job completed; one run each):")
    for name, figures in results.items():
        for what, numbers in figures.large.items():
            times = numbers["elapsed"] / numbers["model"]
            memory = numbers["extra_mib"] * 1024 * 1024 / frame_sizes[what]
            line = (
                f"  {name:13} {what:8} {numbers['elapsed']:6.2f} s (server CPU {numbers['cpu']:5.2f} s), model "
                f"{numbers['model']:6.3f} s: {times:6.1f}x; peak +{numbers['extra_mib']:6.1f} MiB = {memory:4.1f}x "
                f"the frame ({frame_sizes[what] / 2**20:.1f} MiB)"
            )
            if name == "chapkit":
                line += f"; budgets <= 1.5x: {verdict(times <= 1.5)}, <= 2x: {verdict(memory <= 2)}"
            print(line)

    print(f"\nForecast of {LOCATIONS} locations x {PERIODS} periods x {SAMPLES} samples (median seconds):")
    for name, figures in results.items():
        print(f"  {name:13} stored {median(figures.stored_s):6.3f} s, served {median(figures.served_s):6.3f} s")
    if upstream:
        for label, pick in (("stored", "stored_s"), ("served", "served_s")):
            mine, theirs = median(getattr(peer, pick)), median(getattr(upstream, pick))
            print(
                f"  {label}, {peer_name} / 2.4.1: {mine:.3f} / {theirs:.3f} s = {mine / theirs:.2f}x "
                f"(budget <= 1.00x): {verdict(mine <= theirs)}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=100, help="trivial jobs per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, help="a checkout of the commit to compare against (main-before)")
    parser.add_argument(
        "--also", action="append", default=[], metavar="NAME=DIR", help="another checkout to measure (repeatable)"
    )
    parser.add_argument("--no-upstream", action="store_true", help="measure without chapkit 2.4.1")
    args = parser.parse_args()

    small, large_frame = frame(10), frame(args.rows)
    bodies = {
        "small": small,
        "small_future": chap_future(2, 5),
        "chap_future": chap_future(LOCATIONS, PERIODS),
        "large": large_frame,
        "large_future": frame(args.rows, with_target=False),
    }
    frame_sizes = {"train": frame_bytes(bodies["large"]), "predict": frame_bytes(bodies["large_future"])}
    services: list[tuple[str, list[str], dict[str, str]]] = [("chapkit", [sys.executable], {})]
    if args.before:
        services.append(("main-before", [sys.executable], {"PYTHONPATH": str(args.before.resolve())}))
    for also in args.also:
        name, _, directory = also.partition("=")
        services.append((name, [sys.executable], {"PYTHONPATH": str(Path(directory).resolve())}))
    if not args.no_upstream:
        upstream, ours = side_by_side()
        services.append((OURS_313, [ours, "-I"], {}))
        services.append((UPSTREAM, [upstream, "-I"], {}))
    print(f"python {sys.version.split()[0]}; cpus {os.cpu_count()}; {args.rounds} rounds of {args.jobs} jobs")
    results = asyncio.run(run_services(services, args, bodies))
    report(results, args.rows, frame_sizes)


if __name__ == "__main__":
    main()
