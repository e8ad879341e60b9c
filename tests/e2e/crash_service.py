"""The model service of the crash tests: jobs that run until the process is killed with SIGKILL.

Every job writes a marker file named by its tag into the directory `CHAPKIT_E2E_MARKERS` once it runs
(JSON with the ids of the processes doing the work), so the test kills the service only once its jobs
are under way. In the data, `hold` = 1 makes a job run until its process is killed and `fail` = 1 makes
the shell script exit 1 (a failed run, which leaves its diagnostic workspace). `CRASH_RUNNER` chooses
the runner: `python` (functions in this process) or `shell` (`crash_model.py`, a Python script that
starts a child of its own, in a process group run by the shell runner). The Python task `hold` runs
until killed as well. Heartbeat and `stale_after` come from the environment
(`CHAPKIT_JOBS_HEARTBEAT_INTERVAL`, `CHAPKIT_JOBS_STALE_AFTER`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from chapkit import (
    ArtifactHierarchy,
    BaseConfig,
    FunctionalModelRunner,
    MLServiceBuilder,
    MLServiceInfo,
    ShellModelRunner,
    TaskRegistry,
)
from chapkit.domain.ml import BaseModelRunner

SCRIPT = Path(__file__).with_name("crash_model.py")


def started(tag: str, **ids: int) -> None:
    """Write the marker of a job that runs (atomically: the test reads it as soon as it appears)."""
    markers = Path(os.environ["CHAPKIT_E2E_MARKERS"])
    partial = markers / f".{tag}.partial"
    partial.write_text(json.dumps(ids))
    partial.rename(markers / tag)


async def _run(frame: pd.DataFrame) -> None:
    started(str(frame["tag"].iloc[0]), pid=os.getpid())
    if int(frame["hold"].iloc[0]):
        await asyncio.Event().wait()


async def on_train(config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
    """The model is the mean of `y`."""
    await _run(data)
    return {"mean": float(data["y"].mean())}


async def on_predict(
    config: BaseConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """Predict the mean."""
    await _run(future)
    return future.assign(y=model["mean"])


def _runner() -> BaseModelRunner:
    if os.environ.get("CRASH_RUNNER", "python") == "python":
        return FunctionalModelRunner(on_train=on_train, on_predict=on_predict)
    script = f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))}"
    return ShellModelRunner(
        train_command=f"{script} train {{data_file}} {{model_file}}",
        predict_command=f"{script} predict {{model_file}} {{future_file}} {{output_file}}",
    )


tasks = TaskRegistry()


@tasks.register("hold")
async def hold(tag: str) -> dict[str, str]:
    """Run until the process is killed."""
    started(tag, pid=os.getpid())
    await asyncio.Event().wait()
    return {"tag": tag}


app = (
    MLServiceBuilder(
        info=MLServiceInfo(display_name="Crash test"),
        config_schema=BaseConfig,
        hierarchy=ArtifactHierarchy(name="mean", level_labels={0: "trained_model", 1: "prediction"}),
        runner=_runner(),
        database_url=os.environ["DATABASE_URL"],
    )
    .with_jobs()
    .with_tasks(registry=tasks)
    .build()
)
