"""`chapkit configs|artifacts|jobs` against a real main-job server process."""

from __future__ import annotations

import json
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from chapkit.cli import app
from tests.cli.support import chapkit, runner, seed
from tests.e2e.test_main_job import free_port, running_main_job, running_server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with running_main_job(tmp_path_factory.mktemp("service"), free_port()) as base:
        yield base, seed(base)


def test_configs_list_and_show(service: tuple[str, dict[str, str]]) -> None:
    base, ids = service
    listed = chapkit("configs", "list", "--url", base, "--json")
    assert listed.exit_code == 0, listed.output
    assert ids["config"] in [row["id"] for row in json.loads(listed.stdout)]
    table = chapkit("configs", "list", "--url", base)
    assert ids["config"] in table.stdout and "monthly" in table.stdout
    shown = chapkit("configs", "show", ids["config"], "--url", base, "--json")
    assert json.loads(shown.stdout)["data"]["ridge"] == 0.1
    assert "ridge" in chapkit("configs", "show", ids["config"], "--url", base).stdout


def test_an_unknown_id_fails_with_the_problem_detail(service: tuple[str, dict[str, str]]) -> None:
    base, _ = service
    result = chapkit("configs", "show", "01K00000000000000000000000", "--url", base)
    assert result.exit_code == 1 and "404" in result.stderr


def test_an_unreachable_service_fails_clearly() -> None:
    result = chapkit("jobs", "list", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 1 and "cannot reach" in result.stderr


def test_the_url_comes_from_the_environment(service: tuple[str, dict[str, str]]) -> None:
    base, ids = service
    result = runner.invoke(app, ["jobs", "list", "--json"], env={"CHAPKIT_URL": base})
    assert {ids["train_job"], ids["predict_job"]} <= {row["id"] for row in json.loads(result.stdout)}


def test_artifacts_list_show_and_download(service: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, ids = service
    listed = json.loads(chapkit("artifacts", "list", "--url", base, "--json").stdout)
    assert {row["id"] for row in listed} == {ids["model"], ids["prediction"]}
    table = chapkit("artifacts", "list", "--url", base).stdout
    assert "trained_model" in table and "prediction" in table
    shown = json.loads(chapkit("artifacts", "show", ids["model"], "--url", base, "--json").stdout)
    assert shown["data"]["ml_type"] == "trained_model"
    assert "coefficients" in chapkit("artifacts", "show", ids["model"], "--url", base).stdout

    csv = tmp_path / "predictions.csv"
    result = chapkit("artifacts", "download", ids["prediction"], "--url", base, "-o", str(csv))
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(csv)
    assert "disease_cases" in frame.columns and list(frame.columns)[-1] == "sample_99" and len(frame) == 6

    parquet = tmp_path / "predictions.parquet"
    args = ["artifacts", "download", ids["prediction"], "--format", "parquet", "-o", str(parquet), "--url", base]
    assert chapkit(*args).exit_code == 0
    assert pd.read_parquet(parquet).equals(frame)

    model = tmp_path / "model.pkl"
    assert chapkit("artifacts", "download", ids["model"], "--url", base, "-o", str(model)).exit_code == 0
    assert set(pickle.loads(model.read_bytes())["coefficients"]) == {"rainfall", "mean_temperature"}

    refused = chapkit("artifacts", "download", ids["model"], "--format", "csv", "--url", base, "-o", str(csv))
    assert refused.exit_code == 1 and "pickle" in refused.stderr


def test_jobs_list_show_and_watch(service: tuple[str, dict[str, str]]) -> None:
    base, ids = service
    table = chapkit("jobs", "list", "--url", base).stdout
    assert ids["train_job"] in table and "completed" in table
    shown = json.loads(chapkit("jobs", "show", ids["train_job"], "--url", base, "--json").stdout)
    assert shown["artifact_id"] == ids["model"]
    assert "completed" in chapkit("jobs", "show", ids["train_job"], "--url", base).stdout
    watched = chapkit("jobs", "watch", ids["predict_job"], "--url", base, "--json")
    assert watched.exit_code == 0, watched.output
    events = [json.loads(line) for line in watched.stdout.splitlines()]
    assert events[-1]["status"] == "completed"
    assert "completed" in chapkit("jobs", "watch", ids["predict_job"], "--url", base).stdout


def test_watching_a_failed_job_exits_1_with_its_error(service: tuple[str, dict[str, str]]) -> None:
    base, _ = service
    rows = [[f"2023-{month:02d}", "here", 10.0, 20.0, month] for month in range(1, 13)]  # constant covariates
    data = {"columns": ["time_period", "location", "rainfall", "mean_temperature", "disease_cases"], "data": rows}
    config = httpx.post(f"{base}/api/v1/configs", json={"name": "unregularized", "data": {"ridge": 0.0}}).json()
    train = httpx.post(f"{base}/api/v1/ml/$train", json={"config_id": config["id"], "data": data}).json()
    result = chapkit("jobs", "watch", train["job_id"], "--url", base)
    assert result.exit_code == 1, result.output
    assert "failed" in result.stdout


SECURED = """
from chapkit import BaseConfig
from chapkit.api import ServiceBuilder, ServiceInfo


class Settings(BaseConfig):
    size: int = 1


def build():
    return (
        ServiceBuilder(info=ServiceInfo(display_name="secured"))
        .with_health()
        .with_database("sqlite+aiosqlite:///:memory:")
        .with_config(Settings)
        .with_auth(api_keys=["sk-test"])
        .build()
    )
"""


def test_the_api_key_is_sent_as_x_api_key(tmp_path: Path) -> None:
    (tmp_path / "secured.py").write_text(SECURED)
    port = free_port()
    env = {**os.environ, "LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "chapkit", "serve", "secured:build", "--factory", "--port", str(port)]
    with running_server(command, tmp_path, env, port) as base:
        refused = chapkit("configs", "list", "--url", base)
        assert refused.exit_code == 1 and "401" in refused.stderr
        allowed = chapkit("configs", "list", "--url", base, "--api-key", "sk-test", "--json")
        assert allowed.exit_code == 0 and json.loads(allowed.stdout) == []
