"""ShellModelRunner's workspace mode: commands run in a fresh copy of a model directory, on files with fixed names."""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from geojson_pydantic import FeatureCollection

from chapkit.adapters.runners.model_workspace import ModelWorkspace
from chapkit.adapters.runners.shell_model_runner import (
    ScriptFailedError,
    ScriptOutputMissingError,
    ShellModelRunner,
)
from chapkit.domain.config import BaseConfig
from chapkit.domain.trained_models import TrainResult

PY = shlex.quote(sys.executable)

HELPER = '''"""The model's own helper module: the scripts import it from their working directory."""
import csv, json, os, sys


def seen(path):
    with open(path) as stream:
        rows = list(csv.DictReader(stream))
    return {"columns": list(rows[0]) if rows else [], "rows": len(rows)}


def record(name, payload):
    payload.update(cwd=os.getcwd(), argv=sys.argv[1:], flag=os.environ.get("MODEL_FLAG"))
    with open(name, "w") as stream:
        json.dump(payload, stream)
'''

TRAIN = """import os, sys
from helper import record, seen

data, model, config = sys.argv[1:4]
geo = sys.argv[4] if len(sys.argv) > 4 else None
text = open(config).read()
if "behaviour: fail" in text:
    sys.exit("boom: the training data has no rainfall")
os.makedirs("fits", exist_ok=True)
open("fits/extra.txt", "w").write("kept beside the model")
record(model, {"data": seen(data), "config": text, "geo": geo and os.path.exists(geo), "files": sorted(os.listdir())})
if "behaviour: metrics" in text:
    open("metrics.json", "w").write('{"rmse": 1.5}')
"""

PREDICT = """import csv, json, os, sys
from helper import record, seen

model, historic, future, out, config = sys.argv[1:6]
text = open(config).read()
trained = json.load(open(model))
if "behaviour: no-output" in text:
    sys.exit(0)
payload = {"historic": seen(historic), "future": seen(future), "config": text}
record("seen.json", {**payload, "extra": open("fits/extra.txt").read(), "files": sorted(os.listdir())})
with open(out, "w", newline="") as stream:
    writer = csv.writer(stream)
    writer.writerow(["time_period", "location", "sample_0", "sample_1"])
    for row in csv.DictReader(open(future)):
        writer.writerow([row["time_period"], row["location"], 1.0, 2.0])
"""

TRAIN_COMMAND = f"{PY} train.py {{data_file}} {{model_file}} {{config_file}} {{geo_file}}"
PREDICT_COMMAND = f"{PY} predict.py {{model_file}} {{historic_file}} {{future_file}} {{output_file}} {{config_file}}"


class Options(BaseConfig):
    window: int = 4
    behaviour: str = "normal"


@pytest.fixture
def model_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "model"
    directory.mkdir()
    (directory / "helper.py").write_text(HELPER)
    (directory / "train.py").write_text(TRAIN)
    (directory / "predict.py").write_text(PREDICT)
    (directory / "metrics.json").write_text('{"shipped": 1}')  # the directory's own file: not the training's
    (directory / "predictions.csv").write_text("time_period,location,sample_0\nstale,stale,0\n")
    for excluded in (".venv/bin", "__pycache__", ".git"):
        (directory / excluded).mkdir(parents=True)
        (directory / excluded / "file").write_text("not copied")
    (directory / "service.db").write_text("not copied")
    return directory


def runner(directory: Path, **settings: Any) -> ShellModelRunner:
    workspace = ModelWorkspace(directory, adapters={"Cases": "disease_cases", "week_number": "week"}, **settings)
    return ShellModelRunner(TRAIN_COMMAND, PREDICT_COMMAND, workspace=workspace)


def weekly(periods: list[str], *, cases: bool) -> pd.DataFrame:
    frame = pd.DataFrame({"time_period": periods, "location": ["north"] * len(periods), "rainfall": 3.5})
    if cases:
        frame["disease_cases"] = range(len(periods))
    return frame


HISTORY = weekly(["2024-W50", "2024-W51", "2024-W52"], cases=True)
FUTURE = weekly(["2025-W01", "2025-W02"], cases=False)


def kept(model: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(model)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_training_runs_in_a_copy_and_keeps_what_it_wrote(model_directory: Path) -> None:
    before = sorted(os.listdir(model_directory))
    config = Options(prediction_periods=2)  # type: ignore[call-arg]
    model = await runner(model_directory, environment={"MODEL_FLAG": "on"}).on_train(config, HISTORY)

    assert isinstance(model, bytes)
    outputs = kept(model)
    assert sorted(outputs) == ["fits/extra.txt", "model"]
    seen = json.loads(outputs["model"])
    assert seen["argv"] == ["data.csv", "model", "config.yml"]  # names relative to the working directory
    assert Path(seen["cwd"]).parent.name.startswith("chapkit-workspaces-")
    assert seen["flag"] == "on"
    assert seen["data"] == {
        "columns": ["time_period", "location", "rainfall", "disease_cases", "Cases", "week_number"],
        "rows": 3,
    }
    assert yaml.safe_load(seen["config"]) == {
        "prediction_periods": 2,
        "user_option_values": {"window": 4, "behaviour": "normal"},
    }
    assert "helper.py" in seen["files"] and "train.py" in seen["files"]
    assert not {".venv", "__pycache__", ".git", "service.db"} & set(seen["files"])
    assert seen["geo"] is None
    assert sorted(os.listdir(model_directory)) == before  # the directory itself is untouched

    predictions = await runner(model_directory, config_format="flat").on_predict(config, model, HISTORY, FUTURE)
    assert predictions.to_dict("list") == {
        "time_period": ["2025-W01", "2025-W02"],
        "location": ["north", "north"],
        "sample_0": [1.0, 1.0],
        "sample_1": [2.0, 2.0],
    }


async def test_prediction_sees_the_training_outputs_adapted_frames_and_its_config(
    model_directory: Path, tmp_path: Path
) -> None:
    model = await runner(model_directory).on_train(Options(), HISTORY)
    # The predict script records what it saw outside its working directory, which is removed after the run;
    # the edited script is used, as every run copies the directory afresh.
    (model_directory / "predict.py").write_text(PREDICT.replace('"seen.json"', '"' + str(tmp_path / "seen.json") + '"'))
    await runner(model_directory, config_format="flat").on_predict(Options(window=9), model, HISTORY, FUTURE)
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["extra"] == "kept beside the model"
    assert seen["historic"]["columns"][-2:] == ["Cases", "week_number"]
    assert seen["future"]["columns"] == ["time_period", "location", "rainfall", "week_number"]  # no target
    assert yaml.safe_load(seen["config"]) == {"window": 9, "behaviour": "normal"}
    assert "predictions.csv" not in seen["files"]  # the directory's stale file was removed before the command


async def test_geo_is_written_when_given(model_directory: Path) -> None:
    geo = FeatureCollection.model_validate({"type": "FeatureCollection", "features": []})
    model = await runner(model_directory).on_train(Options(), HISTORY, geo)
    seen = json.loads(kept(model)["model"])
    assert seen["argv"][-1] == "geo.json" and seen["geo"] is True


async def test_metrics_are_read_only_when_training_wrote_them(model_directory: Path) -> None:
    result = await runner(model_directory).on_train(Options(behaviour="metrics"), HISTORY)
    assert isinstance(result, TrainResult)
    assert result.metrics == {"rmse": 1.5}
    assert "metrics.json" in kept(result.model)


async def test_a_failing_command_raises_with_its_workspace(model_directory: Path) -> None:
    with pytest.raises(ScriptFailedError) as raised:
        await runner(model_directory).on_train(Options(behaviour="fail"), HISTORY)
    error = raised.value
    assert "boom: the training data has no rainfall" in str(error)
    assert error.command.endswith("train.py data.csv model config.yml ")  # no geo: the placeholder is empty
    assert error.workspace is not None
    names = zipfile.ZipFile(io.BytesIO(error.workspace)).namelist()
    assert {"train.py", "helper.py", "data.csv", "config.yml"} <= set(names)


async def test_a_prediction_without_its_file_is_an_error(model_directory: Path) -> None:
    model = await runner(model_directory).on_train(Options(), HISTORY)
    with pytest.raises(ScriptOutputMissingError, match=r"predictions\.csv"):
        await runner(model_directory).on_predict(Options(behaviour="no-output"), model, HISTORY, FUTURE)


async def test_an_adapter_source_missing_from_the_data_fails_the_training(model_directory: Path) -> None:
    with pytest.raises(ValueError, match="'Cases' is made from the column 'disease_cases'"):
        await runner(model_directory).on_train(Options(), FUTURE)


async def test_a_model_that_is_not_kept_outputs_is_refused(model_directory: Path) -> None:
    with pytest.raises(TypeError, match="zip bytes"):
        await runner(model_directory).on_predict(Options(), {"a": "pickled object"}, HISTORY, FUTURE)


def test_without_a_workspace_the_runner_is_unchanged() -> None:
    plain = ShellModelRunner("python train.py {data_file}", "python predict.py {output_file}")
    assert plain.workspace is None
    with pytest.raises(TypeError, match="ModelWorkspace"):
        ShellModelRunner("a", "b", workspace="dir")  # type: ignore[arg-type]
