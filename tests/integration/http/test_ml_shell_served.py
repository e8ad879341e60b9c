"""A shell model served for real: a pandas and scikit-learn script trains and predicts within seconds (D23).

The service runs as its own process (`python -m chapkit serve`, an SQLite file); the tests poll each
job every 0.2 s and require it to end within 10 s of its submission, as clients written for the
reference do: two trains at once while two other processes keep the CPUs busy included.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.load import cpu_spinners
from tests.support.server import free_port, running_server

REPO = Path(__file__).resolve().parents[3]
POLL_INTERVAL = 0.2
JOB_BUDGET = 10.0
"""Seconds from submission to the end of a job (imports of pandas and scikit-learn included)."""

SERVICE = """\
import shlex, sys
from pathlib import Path

from chapkit import ArtifactHierarchy, BaseConfig, MLServiceBuilder, MLServiceInfo, ShellModelRunner

HERE = Path(__file__).resolve().parent
PY = shlex.quote(sys.executable)


class RidgeConfig(BaseConfig):
    alpha: float = 1.0


runner = ShellModelRunner(
    # A redirect and `&&`, as the reference's shell ran them.
    train_command=f">&2 echo training && {PY} {HERE}/train.py {{config_file}} {{data_file}} {{model_file}}",
    predict_command=f"{PY} {HERE}/predict.py {{model_file}} {{future_file}} {{output_file}} 2>&1",
    model_format="pkl",
    timeout=60,
)

app = MLServiceBuilder(
    info=MLServiceInfo(display_name="Ridge"),
    config_schema=RidgeConfig,
    hierarchy=ArtifactHierarchy(name="ridge", level_labels={0: "trained_model", 1: "prediction"}),
    runner=runner,
    database_url="sqlite+aiosqlite:///ridge.db",
).build()
"""

TRAIN = """\
import json, pickle, sys

import pandas as pd
from sklearn.linear_model import Ridge

config_file, data_file, model_file = sys.argv[1:4]
config = json.load(open(config_file))
if config["alpha"] < 0:
    sys.exit(f"alpha must not be negative, got {config['alpha']}")
data = pd.read_csv(data_file)
model = Ridge(alpha=config["alpha"]).fit(data[["rainfall", "temperature"]], data["disease_cases"])
with open(model_file, "wb") as stream:
    pickle.dump(model, stream)
print(f"trained on {len(data)} rows")
"""

PREDICT = """\
import pickle, sys

import pandas as pd

model_file, future_file, output_file = sys.argv[1:4]
with open(model_file, "rb") as stream:
    model = pickle.load(stream)
future = pd.read_csv(future_file)
future["sample_0"] = model.predict(future[["rainfall", "temperature"]])
future.to_csv(output_file, index=False)
"""

COLUMNS = ["time_period", "location", "rainfall", "temperature", "disease_cases"]
TRAIN_ROWS = [
    [f"2024-{month:02d}", location, 10.0 * month + offset, 20.0 + month, 3.0 * month + 2 * offset]
    for month in range(1, 13)
    for location, offset in (("north", 1.0), ("south", 2.0))
]
FUTURE = {
    "columns": COLUMNS[:-1],
    "data": [["2025-01", "north", 11.0, 21.0], ["2025-01", "south", 12.0, 21.0]],
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The Ridge service, served once for the module's tests (each works on its own config)."""
    tmp_path = tmp_path_factory.mktemp("ridge")
    for name, text in {"ridge_service.py": SERVICE, "train.py": TRAIN, "predict.py": PREDICT}.items():
        (tmp_path / name).write_text(text)
    env = {**os.environ, "LOG_LEVEL": "warning"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), str(REPO), os.environ.get("PYTHONPATH")]))
    for name in ("CHAPKIT_DATABASE_URL", "DATABASE_URL", "CHAPKIT_API_KEYS", "API_KEY_FILE"):
        env.pop(name, None)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "chapkit",
        "serve",
        "ridge_service:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with running_server(command, tmp_path, env, port) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client


def submit(client: httpx.Client, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """Submit a job; return the submission's answer and when (monotonic seconds) it was submitted."""
    submitted_at = time.monotonic()
    response = client.post(path, json=body)
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer, submitted_at


def wait_all(client: httpx.Client, submitted: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Poll every job of `submitted` (job id: submission time) every 0.2 s until each ended; return their records.

    A job still unfinished `JOB_BUDGET` seconds after its submission fails the test.
    """
    ended: dict[str, dict[str, Any]] = {}
    while True:
        for job_id, submitted_at in submitted.items():
            if job_id in ended:
                continue
            record: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
            if record["status"] in {"completed", "failed", "canceled"}:
                ended[job_id] = record
                continue
            elapsed = time.monotonic() - submitted_at
            assert elapsed < JOB_BUDGET, f"a job has not ended {elapsed:.1f} s after its submission: {record}"
        if len(ended) == len(submitted):
            return ended
        time.sleep(POLL_INTERVAL)


def submit_and_wait(client: httpx.Client, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Submit a job; poll it every 0.2 s; return the submission's answer and the ended job's record."""
    answer, submitted_at = submit(client, path, body)
    return answer, wait_all(client, {answer["job_id"]: submitted_at})[answer["job_id"]]


def create_config(client: httpx.Client, **data: Any) -> str:
    response = client.post("/api/v1/configs", json={"name": "ridge", "data": data})
    assert response.status_code == 201, response.text
    config_id: str = response.json()["id"]
    return config_id


def test_a_pandas_and_scikit_learn_script_trains_and_predicts_within_seconds(service: httpx.Client) -> None:
    config_id = create_config(service, alpha=0.5)
    train_body = {"config_id": config_id, "data": {"columns": COLUMNS, "data": TRAIN_ROWS}}
    trained, record = submit_and_wait(service, "/api/v1/ml/$train", train_body)
    assert record["status"] == "completed", record
    model = service.get(f"/api/v1/artifacts/{trained['model_artifact_id']}").json()
    assert model["data"]["model_type"] == "builtins.bytes" and model["data"]["model_size_bytes"] > 0

    predict_body = {
        "model_artifact_id": trained["model_artifact_id"],
        "historic": {"columns": COLUMNS, "data": TRAIN_ROWS},
        "future": FUTURE,
    }
    _, record = submit_and_wait(service, "/api/v1/ml/$predict", predict_body)
    assert record["status"] == "completed", record
    prediction = service.get(f"/api/v1/artifacts/{record['artifact_id']}").json()["data"]
    frame = prediction.get("predictions") or prediction.get("content")
    assert frame["columns"] == [*COLUMNS[:-1], "sample_0"]
    north, south = (row[-1] for row in frame["data"])
    assert 0 < north < south  # more rain, more cases


def test_a_script_that_exits_with_an_error_fails_the_job_with_its_stderr(service: httpx.Client) -> None:
    config_id = create_config(service, alpha=-1.0)
    body = {"config_id": config_id, "data": {"columns": COLUMNS, "data": TRAIN_ROWS}}
    submitted, record = submit_and_wait(service, "/api/v1/ml/$train", body)
    assert record["status"] == "failed", record
    assert "exit code 1" in record["error"]
    assert "alpha must not be negative, got -1.0" in record["error"]
    assert "train.py" in record["error"]  # the command is named
    # The diagnostic workspace is stored at the id the submission promised.
    workspace = service.get(f"/api/v1/artifacts/{submitted['model_artifact_id']}").json()["data"]
    assert workspace["type"] == "ml_training_workspace" and workspace["content_type"] == "application/zip"
    assert workspace["metadata"]["status"] == "failed" and workspace["metadata"]["exit_code"] == 1
    assert workspace["metadata"]["stderr"] == "training\nalpha must not be negative, got -1.0\n"
    assert workspace["content_size"] > 0


def test_two_concurrent_trains_end_within_seconds_while_two_processes_spin(service: httpx.Client) -> None:
    """Clients written for the reference wait a fixed time: two trains at once end in time on a busy machine."""
    config_id = create_config(service, alpha=0.5)
    body = {"config_id": config_id, "data": {"columns": COLUMNS, "data": TRAIN_ROWS}}
    with cpu_spinners(2):
        submissions = [submit(service, "/api/v1/ml/$train", body) for _ in range(2)]
        records = wait_all(service, {answer["job_id"]: submitted_at for answer, submitted_at in submissions})
    assert [record["status"] for record in records.values()] == ["completed", "completed"], records
    for answer, _ in submissions:
        model = service.get(f"/api/v1/artifacts/{answer['model_artifact_id']}").json()
        assert model["data"]["model_size_bytes"] > 0
