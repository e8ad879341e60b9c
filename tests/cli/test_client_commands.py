"""`chapkit configs|artifacts|jobs` against a real main-job server process."""

from __future__ import annotations

import json
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from chapkit.cli import app
from chapkit.cli.client import ServiceClient
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


def narrow(*args: str) -> Any:
    """Run `chapkit ARGS` on an 80-column terminal."""
    return runner.invoke(app, list(args), env={"COLUMNS": "80"})


def test_ids_are_never_cut_in_an_80_column_terminal(service: tuple[str, dict[str, str]]) -> None:
    base, ids = service
    for command, expected in (
        ("configs", {ids["config"]}),
        ("jobs", {ids["train_job"], ids["predict_job"], ids["model"], ids["prediction"]}),
        ("artifacts", {ids["model"], ids["prediction"]}),
    ):
        result = narrow(command, "list", "--url", base)
        assert result.exit_code == 0, result.output
        assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
        assert "…" not in result.stdout
        lines = result.stdout.splitlines()
        for identifier in expected:
            assert any(identifier in line for line in lines), (identifier, result.stdout)
    for command, identifier in (("configs", ids["config"]), ("jobs", ids["predict_job"]), ("artifacts", ids["model"])):
        shown = narrow(command, "show", identifier, "--url", base).stdout
        assert identifier in shown and "…" not in shown


def test_artifacts_show_prints_a_frame_as_its_head_and_shape(service: tuple[str, dict[str, str]]) -> None:
    base, ids = service
    result = narrow("artifacts", "show", ids["prediction"], "--url", base)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) <= 45, result.stdout  # a 6-row prediction of 100 samples: 838 lines as indented JSON
    assert "predictions: 6 rows x 105 columns" in result.stdout
    assert "1 row and" in result.stdout and "more (--json for all)" in result.stdout
    assert ids["model"] in result.stdout  # the parent and the model the predictions came from
    rows = [line for line in lines if "district_a" in line or "district_b" in line]
    assert len(rows) == 10  # the first five rows of the predictions and of the history
    assert all(len(line) <= 80 for line in lines)


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


REPEATED_EVENTS = [
    {"id": "J", "status": "pending", "error": None},
    {"id": "J", "status": "running", "error": None},
    {"id": "J", "status": "running", "error": None},
    {"id": "J", "status": "running", "error": None},
    {"id": "J", "status": "failed", "error": "boom"},
]


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_jobs_watch_prints_changes_only(monkeypatch: pytest.MonkeyPatch, as_json: bool) -> None:
    monkeypatch.setattr(ServiceClient, "events", lambda self, path: iter(REPEATED_EVENTS))
    result = chapkit("jobs", "watch", "J", "--url", "http://127.0.0.1:9", *(["--json"] if as_json else []))
    assert result.exit_code == 1  # it failed
    lines = result.stdout.splitlines()
    if as_json:
        assert [json.loads(line)["status"] for line in lines] == ["pending", "running", "failed"]
    else:
        assert lines == ["J  pending", "J  running", "J  failed  boom"]
