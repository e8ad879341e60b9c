"""The models `chapkit init` writes, run directly on files: config values reach them, forecasts are seeded samples.

Each template's model is run as chapkit runs it (the functions on frames, the scripts on the files the
shell runner writes), without a server: the config's `window` changes what is learned, a prediction has
`sample_0..sample_99` per future row with more than one value, the same request draws the same samples,
and another config or other future rows draw others. The generated projects also pass ruff.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chapkit.cli.init import Template, project_files

SAMPLES = [f"sample_{index}" for index in range(100)]
FN_RUN = """
import json, sys
import pandas as pd
from flu_model.config import ModelConfig
from flu_model.model import on_predict, on_train
window, data, future = json.loads(sys.argv[1]), pd.read_csv(sys.argv[2]), pd.read_csv(sys.argv[3])
config = ModelConfig(window=window)
model = on_train(config, data)
print(json.dumps({"model": model, "forecast": on_predict(config, model, data, future).to_dict(orient="split")}))
"""


def _write(project: Path, template: Template) -> Path:
    for path, text in project_files("flu-model", template).items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    return project


def _frames(directory: Path, future_offset: int = 0) -> tuple[Path, Path]:
    """data.csv (two locations, 10 months; the last 3 of `north` differ) and future.csv (3 months)."""
    data, future = directory / "data.csv", directory / "future.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time_period", "location", "rainfall", "mean_temperature", "disease_cases"])
        for location, level in (("north", 10.0), ("south", 40.0)):
            for month in range(1, 11):
                cases = level + (30.0 if location == "north" and month > 7 else 0.0) + month % 3
                writer.writerow([f"2023-{month:02d}", location, 50 + 7 * month % 11, 20 + month % 4, cases])
        writer.writerow(["2023-10", "east", 1, 1, ""])  # a row without a target is left out of training
    with future.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time_period", "location", "rainfall", "mean_temperature"])
        for location in ("north", "south"):
            for month in range(11, 14):
                writer.writerow([f"{2023 + month // 13}-{(month - 1) % 12 + 1:02d}", location, 55 + future_offset, 21])
    return data, future


def _read_forecast(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _check_forecast(rows: list[dict[str, str]]) -> None:
    assert list(rows[0]) == ["time_period", "location", "disease_cases", *SAMPLES]
    assert [(row["time_period"], row["location"]) for row in rows] == [
        (period, location) for location in ("north", "south") for period in ("2023-11", "2023-12", "2024-01")
    ]
    for row in rows:
        draws = [float(row[name]) for name in SAMPLES]
        assert all(math.isfinite(value) and value >= 0 for value in draws)
        assert len(set(draws)) > 1


def _config(directory: Path, window: int) -> Path:
    path = directory / f"config-{window}.json"
    path.write_text(json.dumps({"window": window, "prediction_periods": 3}, indent=2))
    return path


def _run(*command: str | Path) -> None:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_fn_py_learns_over_the_window_and_draws_seeded_samples(tmp_path: Path) -> None:
    project = _write(tmp_path / "flu-model", Template.fn_py)
    data, future = _frames(tmp_path)

    def run(window: int, future_file: Path = future) -> dict[str, Any]:
        env = {"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"}
        args = [sys.executable, "-c", FN_RUN, str(window), str(data), str(future_file)]
        result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        output: dict[str, Any] = json.loads(result.stdout)
        return output

    short, long = run(3), run(10)
    north = short["model"]["locations"]["north"][0]
    assert north == pytest.approx(40 + (8 % 3 + 9 % 3 + 10 % 3) / 3)  # the mean of north's last 3 months
    assert long["model"]["locations"]["north"][0] < north
    forecast = short["forecast"]
    _check_forecast([dict(zip(forecast["columns"], map(str, row), strict=True)) for row in forecast["data"]])
    assert run(3)["forecast"] == forecast  # the same request, the same samples
    (tmp_path / "other").mkdir()
    _, other_future = _frames(tmp_path / "other", future_offset=5)
    assert run(3, other_future)["forecast"]["data"] != forecast["data"]


def test_shell_py_reads_its_config_and_draws_seeded_samples(tmp_path: Path) -> None:
    project = _write(tmp_path / "flu-model", Template.shell_py)
    scripts = project / "flu_model" / "scripts"
    data, future = _frames(tmp_path)
    forecasts = {}
    for window in (3, 10):
        config, model, output = (
            _config(tmp_path, window),
            tmp_path / f"model-{window}.pickle",
            tmp_path / f"{window}.csv",
        )
        _run(sys.executable, scripts / "train.py", config, data, model)
        _run(sys.executable, scripts / "predict.py", config, model, future, output)
        forecasts[window] = _read_forecast(output)
        _check_forecast(forecasts[window])
    means = {window: float(rows[0]["disease_cases"]) for window, rows in forecasts.items()}
    assert means[3] == pytest.approx(40 + (8 % 3 + 9 % 3 + 10 % 3) / 3, abs=0.01) and means[10] < means[3]
    again = tmp_path / "again.csv"
    _run(sys.executable, scripts / "predict.py", _config(tmp_path, 3), tmp_path / "model-3.pickle", future, again)
    assert _read_forecast(again) == forecasts[3]


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="the shell-r model needs Rscript")
def test_shell_r_reads_its_config_and_draws_seeded_samples(tmp_path: Path) -> None:
    project = _write(tmp_path / "flu-model", Template.shell_r)
    scripts = project / "flu_model" / "scripts"
    data, future = _frames(tmp_path)
    rows_fitted = {}
    for window in (3, 10):
        config, model = _config(tmp_path, window), tmp_path / f"model-{window}.rds"
        _run("Rscript", scripts / "train.R", config, data, model)
        count = subprocess.run(
            ["Rscript", "-e", f'cat(nrow(readRDS("{model}")$fit$model))'], capture_output=True, text=True, check=True
        )
        rows_fitted[window] = int(count.stdout)
    assert rows_fitted == {3: 6, 10: 20}  # the config's window reached train.R: its last periods per location

    config, model = _config(tmp_path, 3), tmp_path / "model-3.rds"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    _run("Rscript", scripts / "predict.R", config, model, future, first)
    _run("Rscript", scripts / "predict.R", config, model, future, second)
    _check_forecast(_read_forecast(first))
    assert _read_forecast(first) == _read_forecast(second)
    other = tmp_path / "other.csv"
    _run("Rscript", scripts / "predict.R", _config(tmp_path, 4), model, future, other)
    assert [row["sample_0"] for row in _read_forecast(other)] != [row["sample_0"] for row in _read_forecast(first)]


@pytest.mark.parametrize("template", list(Template))
def test_the_generated_project_passes_ruff(tmp_path: Path, template: Template) -> None:
    project = _write(tmp_path / "flu-model", template)
    ruff = [sys.executable, "-m", "ruff"]
    options = ["--no-cache", "--isolated", "--line-length", "120"]
    lint = subprocess.run(
        [*ruff, "check", *options, "--select", "E,F,W,I,B,UP", "."], cwd=project, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    formatted = subprocess.run([*ruff, "format", "--check", *options, "."], cwd=project, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout
