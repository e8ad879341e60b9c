"""Serve an example as a real process (`python -m chapkit serve examples.<name>.main:app`) and drive it."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from chapkit.demo.main_service import SAMPLES
from tests.support.server import free_port, running_server

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
TERMINAL = {"completed", "failed", "canceled"}
JOB_DEADLINE = 180.0
"""Seconds a job may take on a busy machine before a test gives up (a bound, never a synchronization)."""

_F = TypeVar("_F", bound=Callable[..., Any])


def covers(*names: str) -> Callable[[_F], _F]:
    """Mark a test as the smoke test of the named examples (tests/examples/test_coverage.py reads it)."""

    def mark(test: _F) -> _F:
        for name in names:
            assert (EXAMPLES / name).is_dir(), f"no example directory {name!r}"
        test.covered_examples = names  # type: ignore[attr-defined]
        return test

    return mark


def example_env(**extra: str) -> dict[str, str]:
    """The environment of an example process: the repository importable, no inherited database URL."""
    env = {**os.environ, "LOG_LEVEL": "warning", **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    for name in ("CHAPKIT_DATABASE_URL", "DATABASE_URL", "CHAPKIT_API_KEYS", "API_KEY_FILE"):
        if name not in extra:
            env.pop(name, None)
    return env


@contextmanager
def serving(example: str, directory: Path, **extra_env: str) -> Iterator[httpx.Client]:
    """Serve `examples/<example>/main.py` with `chapkit serve` in `directory`; yield a client for it.

    The working directory is `directory`, so the example's default SQLite file is created there.
    """
    port = free_port()
    command = [sys.executable, "-m", "chapkit", "serve", f"examples.{example}.main:app"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with (
        running_server(command, directory, example_env(**extra_env), port) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        yield client


def wait_for_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """Poll `GET /api/v1/jobs/{job_id}` until the job has ended; return its record."""
    deadline = time.monotonic() + JOB_DEADLINE
    while True:
        record: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if record["status"] in TERMINAL:
            return record
        assert time.monotonic() < deadline, f"job {job_id} did not end: {record}"
        time.sleep(0.1)


def sample(name: str) -> dict[str, Any]:
    """A sample request body of the demo service (`train` or `predict`), ids still to fill in."""
    body: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return body


def train_and_predict(client: httpx.Client, config_data: dict[str, Any]) -> dict[str, Any]:
    """Config, `$train`, wait, `$predict`, wait; return the prediction artifact (both jobs must complete)."""
    config = client.post("/api/v1/configs", json={"name": "smoke", "data": config_data})
    assert config.status_code == 201, config.text
    train = client.post("/api/v1/ml/$train", json={**sample("train"), "config_id": config.json()["id"]})
    assert train.status_code == 202, train.text
    trained = wait_for_job(client, train.json()["job_id"])
    assert trained["status"] == "completed", trained
    model_id = train.json()["model_artifact_id"]
    predict = client.post("/api/v1/ml/$predict", json={**sample("predict"), "model_artifact_id": model_id})
    assert predict.status_code == 202, predict.text
    predicted = wait_for_job(client, predict.json()["job_id"])
    assert predicted["status"] == "completed", predicted
    artifact = client.get(f"/api/v1/artifacts/{predict.json()['prediction_artifact_id']}")
    assert artifact.status_code == 200, artifact.text
    tree = client.get(f"/api/v1/artifacts/{model_id}/$tree").json()
    assert [child["id"] for child in tree["children"]] == [artifact.json()["id"]]
    result: dict[str, Any] = artifact.json()
    return result


def predicted_cases(prediction: dict[str, Any]) -> list[float]:
    """The `disease_cases` column of a prediction artifact."""
    frame = prediction["data"]["predictions"]
    column = frame["columns"].index("disease_cases")
    return [float(row[column]) for row in frame["data"]]
