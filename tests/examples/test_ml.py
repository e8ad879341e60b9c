"""Smoke tests of the model-service examples: config, `$train`, wait, `$predict`, wait, predictions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.examples.support import covers, predicted_cases, sample, serving, train_and_predict, wait_for_job

FUTURE_ROWS = len(sample("predict")["future"]["data"])


@covers("ml_functional")
def test_ml_functional_trains_and_predicts(tmp_path: Path) -> None:
    with serving("ml_functional", tmp_path) as client:
        prediction = train_and_predict(client, {"features": ["rainfall", "mean_temperature"]})
        assert prediction["level"] == 1 and prediction["data"]["ml_type"] == "prediction"
        cases = predicted_cases(prediction)
        assert len(cases) == FUTURE_ROWS and all(value == value for value in cases)  # no NaN

        refused = client.post("/api/v1/configs", json={"name": "bad", "data": {"features": "rainfall"}})
        assert refused.status_code == 422


@covers("ml_class")
def test_ml_class_runner_trains_and_predicts(tmp_path: Path) -> None:
    with serving("ml_class", tmp_path) as client:
        prediction = train_and_predict(client, {"window": 3, "growth": 2.0})
        cases = predicted_cases(prediction)
        assert len(cases) == FUTURE_ROWS and all(value > 0 for value in cases)
        model = client.get(f"/api/v1/artifacts/{prediction['parent_id']}").json()
        assert model["data"]["model"]["runs"] == 1  # on_init ran before training


@covers("ml_shell_python")
def test_ml_shell_python_scripts_train_and_predict(tmp_path: Path) -> None:
    with serving("ml_shell_python", tmp_path) as client:
        prediction = train_and_predict(client, {"scale": 2.0})
        train, future = sample("train")["data"], sample("predict")["future"]

        def mean(location: str) -> float:
            values = [row[-1] for row in train["data"] if row[1] == location]
            return sum(values) / len(values)

        assert train["columns"][1] == future["columns"][1] == "location"
        expected = [round(mean(row[1]) * 2.0, 2) for row in future["data"]]
        assert predicted_cases(prediction) == expected


@covers("ml_shell_python")
def test_ml_shell_python_a_failing_script_fails_the_job(tmp_path: Path) -> None:
    with serving("ml_shell_python", tmp_path) as client:
        config = client.post("/api/v1/configs", json={"name": "smoke", "data": {}}).json()
        body = sample("train")
        body["data"]["columns"][-1] = "cases"  # train.py reads disease_cases: it exits with a KeyError
        train = client.post("/api/v1/ml/$train", json={**body, "config_id": config["id"]})
        assert train.status_code == 202, train.text
        record = wait_for_job(client, train.json()["job_id"])
        assert record["status"] == "failed" and "disease_cases" in record["error"]


@covers("ml_shell_r")
def test_ml_shell_r_scripts_train_and_predict(tmp_path: Path) -> None:
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not on PATH (install R to run the R example)")
    with serving("ml_shell_r", tmp_path) as client:
        prediction = train_and_predict(client, {})
        cases = predicted_cases(prediction)
        assert len(cases) == FUTURE_ROWS and all(value == value for value in cases)
        model = client.get(f"/api/v1/artifacts/{prediction['parent_id']}").json()
        assert model["data"]["ml_type"] == "trained_model"
