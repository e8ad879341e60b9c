"""Helpers for the command-line tests: run `chapkit` in process, seed a real main-job server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from chapkit.cli import app
from chapkit.demo.main_service import SAMPLES

runner = CliRunner(env={"COLUMNS": "200", "CHAPKIT_URL": "", "CHAPKIT_API_KEY": ""})


def chapkit(*args: str) -> Any:
    """Run `chapkit ARGS` in this process and return the click Result."""
    return runner.invoke(app, list(args))


def wait_for_job(base: str, job_id: str) -> dict[str, Any]:
    """Poll a job until it is terminal and return its record."""
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = httpx.get(f"{base}/api/v1/jobs/{job_id}").json()
        if job["status"] in {"completed", "failed", "canceled"}:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def sample(name: str, **ids: str) -> Any:
    """A bundled sample body with its placeholders (CONFIG_ID, MODEL_ID) filled in."""
    text = (Path(SAMPLES) / name).read_text()
    for placeholder, value in ids.items():
        text = text.replace(placeholder, value)
    return json.loads(text)


def seed(base: str) -> dict[str, str]:
    """Create a config, train and predict on the main job; return the ids."""
    config = httpx.post(f"{base}/api/v1/configs", json={"name": "monthly", "data": {"ridge": 0.1}}).json()
    train = httpx.post(f"{base}/api/v1/ml/$train", json=sample("train.json", CONFIG_ID=config["id"])).json()
    wait_for_job(base, train["job_id"])
    predict_body = sample("predict.json", MODEL_ID=train["model_artifact_id"])
    predict = httpx.post(f"{base}/api/v1/ml/$predict", json=predict_body).json()
    wait_for_job(base, predict["job_id"])
    return {
        "config": config["id"],
        "model": train["model_artifact_id"],
        "train_job": train["job_id"],
        "prediction": predict["prediction_artifact_id"],
        "predict_job": predict["job_id"],
    }
