"""The main job's model service driven over HTTP against a real server process: config, train, predict.

Runs `python -m chapkit` on an SQLite file and on PostgreSQL, with the sample payloads that ship in the
package, the way the README's curl session does.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chapkit.demo.main_service import SAMPLES
from tests.conftest import fresh_postgres_database
from tests.e2e.test_main_job import free_port, running_server


@pytest.fixture(params=["sqlite_file", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite_file":
        yield f"sqlite+aiosqlite:///{tmp_path / 'model.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


def sample(name: str, **ids: str) -> dict[str, Any]:
    text = (SAMPLES / f"{name}.json").read_text()
    for placeholder, value in ids.items():
        text = text.replace(placeholder, value)
    body: dict[str, Any] = json.loads(text)
    return body


def finished(base: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        record: dict[str, Any] = httpx.get(f"{base}/api/v1/jobs/{job_id}").json()
        if record["status"] in {"completed", "failed", "canceled"}:
            return record
        assert time.monotonic() < deadline, record
        time.sleep(0.05)


def test_config_train_predict_over_http(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning"}
    env["CHAPKIT_DATABASE_URL"] = database_url
    with running_server([sys.executable, "-m", "chapkit"], tmp_path, env, port) as base:
        config = httpx.post(f"{base}/api/v1/configs", json={"name": "monthly", "data": {}})
        assert config.status_code == 201, config.text
        config_id = config.json()["id"]

        check = httpx.post(
            f"{base}/api/v1/ml/$validate", json={"type": "train", **sample("train", CONFIG_ID=config_id)}
        )
        assert check.json() == {"valid": True, "diagnostics": []}
        trained = httpx.post(f"{base}/api/v1/ml/$train", json=sample("train", CONFIG_ID=config_id))
        assert trained.status_code == 202, trained.text
        record = finished(base, trained.json()["job_id"])
        assert record["status"] == "completed", record
        model_id = trained.json()["model_artifact_id"]
        model = httpx.get(f"{base}/api/v1/artifacts/{model_id}").json()["data"]
        assert model["model"]["coefficients"]["rainfall"] == pytest.approx(0.35, abs=0.1)
        assert model["model_type"] == "builtins.dict" and model["config_id"] == config_id

        predicted = httpx.post(f"{base}/api/v1/ml/$predict", json=sample("predict", MODEL_ID=model_id))
        assert predicted.status_code == 202, predicted.text
        record = finished(base, predicted.json()["job_id"])
        assert record["status"] == "completed", record
        prediction = httpx.get(f"{base}/api/v1/artifacts/{predicted.json()['prediction_artifact_id']}").json()
        frame = prediction["data"]["predictions"]
        assert "disease_cases" in frame["columns"] and frame["columns"][-1] == "sample_99" and len(frame["data"]) == 6
        assert all(row[-1] >= 0 for row in frame["data"])
        tree = httpx.get(f"{base}/api/v1/artifacts/{model_id}/$tree").json()
        assert tree["config"]["id"] == config_id and tree["children"][0]["id"] == prediction["id"]

        refused = httpx.post(f"{base}/api/v1/ml/$predict", json=sample("predict", MODEL_ID=prediction["id"]))
        assert refused.status_code == 202, refused.text
        failed = finished(base, refused.json()["job_id"])
        assert failed["status"] == "failed" and "not a training artifact" in failed["error"]
