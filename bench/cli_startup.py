"""How fast the `chapkit` command starts: CPU of `--help` and of client commands against a hello-world typer app.

Every command's `--help` (found by walking the Typer app) and two client commands (`configs list`,
`jobs show ID`, against a main job started here on an SQLite file in a temporary folder) run as
subprocesses; their CPU (user + system, from `getrusage(RUSAGE_CHILDREN)`) is the median of several
runs, compared with a hello-world typer app's `--help` measured in the same run.

    python bench/cli_startup.py [--repeat 7] [--no-service]

Budget: every `--help` within 2x of the hello-world app's, client commands within 3x (the service stack,
pandas, SQLAlchemy and FastAPI load only for commands that serve). Prints one line per command with
PASS or FAIL and exits 1 when any fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from typer.main import get_command
from upstream import clean_env, free_port, started

from chapkit.cli import app
from chapkit.demo.main_service import SAMPLES

HELP_BUDGET = 2.0
CLIENT_BUDGET = 3.0

HELLO = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    typer.echo(f"hello {name}")


if __name__ == "__main__":
    app()
'''


def chapkit_command() -> list[str]:
    """The installed console script, else `python -m chapkit`."""
    script = Path(sys.executable).with_name("chapkit")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "chapkit"]


def cpu_seconds(command: list[str], repeat: int, env: dict[str, str]) -> float:
    """The median CPU seconds (user + system) of running `command` `repeat` times."""
    samples = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(samples)


def command_paths(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path of the CLI: (), ("serve",), ("configs",), ("configs", "list"), ..."""
    yield prefix
    for name, command in sorted(getattr(group, "commands", {}).items()):
        yield from command_paths(command, (*prefix, name))


@contextmanager
def main_job(directory: Path) -> Iterator[str]:
    """Run `python -m chapkit` (the demo service on an SQLite file in `directory`); yield its URL."""
    port = free_port()
    with started([sys.executable, "-m", "chapkit"], directory, clean_env(port)):
        yield f"http://127.0.0.1:{port}"


def seed(base: str) -> str:
    """A config and a finished training job on the service; return the job's id."""
    config = httpx.post(f"{base}/api/v1/configs", json={"name": "bench", "data": {}}).json()
    body = json.loads((Path(SAMPLES) / "train.json").read_text().replace("CONFIG_ID", config["id"]))
    job_id: str = httpx.post(f"{base}/api/v1/ml/$train", json=body).json()["job_id"]
    deadline = time.monotonic() + 60
    while httpx.get(f"{base}/api/v1/jobs/{job_id}").json()["status"] not in {"completed", "failed", "canceled"}:
        if time.monotonic() > deadline:
            raise SystemExit("the training job did not finish")
        time.sleep(0.1)
    return job_id


def report(label: str, seconds: float, baseline: float, budget: float) -> bool:
    ratio = seconds / baseline
    ok = ratio <= budget
    print(f"{label:40s} {seconds * 1000:7.0f} ms  {ratio:4.2f}x  (budget {budget:.0f}x)  {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (the median is reported)")
    parser.add_argument("--no-service", action="store_true", help="measure --help only")
    options = parser.parse_args()
    env = {**os.environ, "COLUMNS": "100"}
    for name in ("CHAPKIT_URL", "CHAPKIT_API_KEY"):
        env.pop(name, None)
    chapkit = chapkit_command()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        hello = Path(folder) / "hello.py"
        hello.write_text(HELLO)
        baseline = cpu_seconds([sys.executable, str(hello), "--help"], options.repeat, env)
        print(f"{'hello-world typer app --help (baseline)':40s} {baseline * 1000:7.0f} ms")
        for path in command_paths(get_command(app)):
            seconds = cpu_seconds([*chapkit, *path, "--help"], options.repeat, env)
            results.append(report(" ".join(("chapkit", *path, "--help")), seconds, baseline, HELP_BUDGET))
        if not options.no_service:
            with main_job(Path(folder)) as base:
                job_id = seed(base)
                for args in (["configs", "list"], ["jobs", "show", job_id]):
                    seconds = cpu_seconds([*chapkit, *args, "--url", base], options.repeat, env)
                    label = " ".join(("chapkit", *args[:2], "ID" if len(args) > 2 else "", "--url")).replace("  ", " ")
                    results.append(report(label, seconds, baseline, CLIENT_BUDGET))
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    if not all(results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
