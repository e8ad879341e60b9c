"""ShellModelRunner: train and predict through scripts on files, failures, limits, cleanup and no shell (D23)."""

from __future__ import annotations

import asyncio
import json
import pickle
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from geojson_pydantic import FeatureCollection

from chapkit.adapters.runners.shell_model_runner import (
    ScriptFailedError,
    ScriptOutputMissingError,
    ScriptStartError,
    ShellModelRunner,
)
from chapkit.domain.config import BaseConfig
from tests.integration.runners.conftest import (
    entries,
    has_ended,
    new_marker,
    pid_reports,
    read_pids,
    write_family_script,
)

PY = shlex.quote(sys.executable)

MODEL_SCRIPT = '''\
"""A tiny linear model over CSV files. argv: train CONFIG DATA MODEL [GEO] | predict CONFIG MODEL HIST FUT OUT [GEO]."""
import csv, json, os, pickle, sys

mode = sys.argv[1]
config = json.load(open(sys.argv[2]))
behaviour = config.get("behaviour", "")
if os.environ.get("CHAPKIT_TEST_RECORD"):
    with open(os.environ["CHAPKIT_TEST_RECORD"], "a") as record:
        record.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "files": sorted(os.listdir())}) + "\\n")
if behaviour == "fail":
    print("boom: column 'y' is missing", file=sys.stderr)
    sys.exit(3)
if behaviour == "noisy-fail":
    sys.stderr.write("n" * 200_000 + "\\nFINAL LINE")
    sys.exit(1)
if behaviour == "no-output":
    sys.exit(0)
if behaviour == "noisy":
    sys.stdout.write("chatter " * 1_000_000)


def rows(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


if mode == "train":
    model_file, rest = sys.argv[4], sys.argv[5:]
    data = rows(sys.argv[3])
    slope = sum(float(r["y"]) / float(r["x"]) for r in data) / len(data) * config.get("scale", 1.0)
    features = len(json.load(open(rest[0]))["features"]) if rest else None
    model = {"slope": slope, "features": features, "labels": [r.get("label") for r in data]}
    if model_file.endswith(".pickle"):
        with open(model_file, "wb") as stream:
            pickle.dump(model, stream)
    else:
        with open(model_file, "wb") as stream:
            stream.write(b"RAW:" + repr(slope).encode())
else:
    model_file, future_file, output_file = sys.argv[3], sys.argv[5], sys.argv[6]
    if model_file.endswith(".pickle"):
        with open(model_file, "rb") as stream:
            slope = pickle.load(stream)["slope"]
    else:
        with open(model_file, "rb") as stream:
            slope = float(stream.read().removeprefix(b"RAW:"))
    with open(output_file, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["x", "label", "sample_0"])
        for r in rows(future_file):
            writer.writerow([r["x"], r.get("label", ""), float(r["x"]) * slope])
'''

DATA = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0], "label": ["a", "b", "c"]})
FUTURE = pd.DataFrame({"x": [4.0, 5.0], "label": ["d", "e"]})
GEO = FeatureCollection.model_validate(
    {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}, "properties": {"id": "a"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 1]}, "properties": {"id": "b"}},
        ],
    }
)


class ModelConfig(BaseConfig):
    scale: float = 1.0
    behaviour: str = ""


@pytest.fixture
def workroot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory the runner's working directories are made in (to check they are removed)."""
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file the model script appends its argv, cwd and the files it saw to."""
    path = tmp_path / "record.jsonl"
    monkeypatch.setenv("CHAPKIT_TEST_RECORD", str(path))
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def script(tmp_path: Path) -> str:
    path = tmp_path / "model script.py"  # a space in the path: quoting in the template must hold
    path.write_text(MODEL_SCRIPT)
    return shlex.quote(str(path))


def model_runner(script: str, model_format: str = "pickle", **kwargs: Any) -> ShellModelRunner:
    return ShellModelRunner(
        train_command=f"{PY} {script} train {{config_file}} {{data_file}} {{model_file}} {{geo_file}}",
        predict_command=(
            f"{PY} {script} predict {{config_file}} {{model_file}} {{historic_file}} {{future_file}} "
            "{output_file} {geo_file}"
        ),
        model_format=model_format,
        **kwargs,
    )


async def test_train_then_predict_with_a_python_script(script: str, workroot: Path, record: Path) -> None:
    runner = model_runner(script)
    model = await runner.on_train(ModelConfig(scale=0.5), DATA)
    assert model == {"slope": 1.0, "features": None, "labels": ["a", "b", "c"]}  # the unpickled object
    predictions = await runner.on_predict(ModelConfig(), model, DATA, FUTURE)
    assert isinstance(predictions, pd.DataFrame)
    assert predictions["sample_0"].tolist() == [4.0, 5.0]
    assert predictions["label"].tolist() == ["d", "e"]
    assert entries(workroot) == []

    train, predict = records(record)
    assert train["files"] == ["config.json", "data.csv"]
    assert Path(train["cwd"]).name.startswith("chapkit_ml_train_")
    assert train["argv"][1:] == [f"{train['cwd']}/{name}" for name in ("config.json", "data.csv", "model.pickle")]
    assert predict["files"] == ["config.json", "future.csv", "historic.csv", "model.pickle"]
    assert Path(predict["cwd"]).name.startswith("chapkit_ml_predict_")
    names = ("config.json", "model.pickle", "historic.csv", "future.csv", "predictions.csv")
    assert predict["argv"][1:] == [f"{predict['cwd']}/{name}" for name in names]


async def test_geo_data_is_written_and_passed(script: str, workroot: Path, record: Path) -> None:
    runner = model_runner(script)
    model = await runner.on_train(ModelConfig(), DATA, GEO)
    assert model["features"] == 2
    await runner.on_predict(ModelConfig(), model, DATA, FUTURE, geo=GEO)
    train, predict = records(record)
    assert "geo.json" in train["files"] and train["argv"][-1].endswith("/geo.json")
    assert "geo.json" in predict["files"] and predict["argv"][-1].endswith("/geo.json")
    assert entries(workroot) == []


async def test_a_model_format_other_than_pickle_round_trips_the_file_bytes(script: str, workroot: Path) -> None:
    runner = model_runner(script, model_format="bin")
    model = await runner.on_train(ModelConfig(), DATA)
    assert model == b"RAW:2.0"
    predictions = await runner.on_predict(ModelConfig(), model, DATA, FUTURE)
    assert predictions["sample_0"].tolist() == [8.0, 10.0]
    with pytest.raises(TypeError, match="bytes"):
        await runner.on_predict(ModelConfig(), {"slope": 2.0}, DATA, FUTURE)
    assert entries(workroot) == []


async def test_a_failing_script_raises_with_its_stderr(script: str, workroot: Path) -> None:
    runner = model_runner(script)
    with pytest.raises(ScriptFailedError) as raised:
        await runner.on_train(ModelConfig(behaviour="fail"), DATA)
    assert isinstance(raised.value, RuntimeError)
    assert str(raised.value) == "Training script exited with code 3: boom: column 'y' is missing"
    assert raised.value.result.exit_code == 3
    with pytest.raises(ScriptFailedError, match=r"^Prediction script exited with code 3: boom"):
        await runner.on_predict(ModelConfig(behaviour="fail"), {"slope": 1.0}, DATA, FUTURE)
    assert entries(workroot) == []


async def test_the_error_survives_pickling_with_its_result(script: str, workroot: Path) -> None:
    with pytest.raises(ScriptFailedError) as raised:
        await model_runner(script).on_train(ModelConfig(behaviour="fail"), DATA)
    copy = pickle.loads(pickle.dumps(raised.value))
    assert str(copy) == str(raised.value)
    assert copy.result == raised.value.result


async def test_a_model_that_cannot_be_pickled_fails_before_the_script_runs(
    script: str, workroot: Path, record: Path
) -> None:
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        await model_runner(script).on_predict(ModelConfig(), lambda: None, DATA, FUTURE)
    assert record.name not in entries(record.parent)
    assert entries(workroot) == []


async def test_the_error_carries_only_the_tail_of_a_huge_stderr(script: str, workroot: Path) -> None:
    with pytest.raises(ScriptFailedError) as raised:
        await model_runner(script).on_train(ModelConfig(behaviour="noisy-fail"), DATA)
    message = str(raised.value)
    assert message.startswith("Training script exited with code 1: ...")
    assert message.endswith("\nFINAL LINE")
    assert len(message) < 4200
    assert raised.value.result.stderr_truncated
    assert entries(workroot) == []


async def test_huge_stdout_does_not_stall_the_script(script: str, workroot: Path) -> None:
    model = await model_runner(script).on_train(ModelConfig(behaviour="noisy"), DATA)
    assert model["slope"] == 2.0
    assert entries(workroot) == []


async def test_a_missing_model_file_is_named(script: str, workroot: Path) -> None:
    with pytest.raises(ScriptOutputMissingError, match=r"did not create the model file 'model\.pickle'"):
        await model_runner(script).on_train(ModelConfig(behaviour="no-output"), DATA)
    with pytest.raises(ScriptOutputMissingError, match=r"'model\.rds'"):
        await model_runner(script, model_format="rds").on_train(ModelConfig(behaviour="no-output"), DATA)
    assert entries(workroot) == []


async def test_a_missing_predictions_file_is_named(script: str, workroot: Path) -> None:
    with pytest.raises(ScriptOutputMissingError, match=r"did not create the predictions file 'predictions\.csv'"):
        await model_runner(script).on_predict(ModelConfig(behaviour="no-output"), {"slope": 1.0}, DATA, FUTURE)
    assert entries(workroot) == []


async def test_a_program_that_cannot_start(tmp_path: Path, workroot: Path) -> None:
    missing = shlex.quote(str(tmp_path / "no-such-program"))
    runner = ShellModelRunner(f"{missing} {{model_file}}", f"{missing} {{output_file}}")
    with pytest.raises(ScriptStartError, match="Training script could not be started"):
        await runner.on_train(ModelConfig(), DATA)
    assert entries(workroot) == []


async def test_data_and_config_values_stay_inert(script: str, tmp_path: Path, workroot: Path) -> None:
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    pwned = tmp_path / "pwned"
    hostile = [f"; rm -rf {sentinel}", f"$(touch {pwned})", f"`touch {pwned}`"]
    data = DATA.assign(label=hostile)
    config = ModelConfig.model_validate({"note": f"$(touch {pwned}); rm -rf {sentinel}"})
    runner = model_runner(script)
    model = await runner.on_train(config, data)
    assert model["labels"] == hostile
    predictions = await runner.on_predict(config, model, data, FUTURE.assign(label=hostile[:2]))
    assert predictions["label"].tolist() == hostile[:2]
    assert sentinel.is_dir() and not pwned.exists()
    assert entries(workroot) == []


async def test_the_template_is_split_once_and_never_reaches_a_shell(tmp_path: Path, workroot: Path) -> None:
    pwned = tmp_path / "pwned"
    dump_args = shlex.quote("import pickle, sys; pickle.dump(sys.argv[2:], open(sys.argv[1], 'wb'))")
    template = (
        f"{PY} -c {dump_args} {{model_file}} ; touch {pwned} \"$(touch {pwned})\" 'a b' {{{{literal}}}} x{{geo_file}}"
    )
    runner = ShellModelRunner(template, f"{PY} -c pass {{output_file}}")
    model = await runner.on_train(ModelConfig(), DATA)
    assert model == [";", "touch", str(pwned), f"$(touch {pwned})", "a b", "{literal}", "x"]
    assert not pwned.exists()
    assert entries(workroot) == []


async def test_an_empty_geo_argument_is_left_out_but_a_literal_empty_one_stays(workroot: Path) -> None:
    dump_args = shlex.quote("import pickle, sys; pickle.dump(sys.argv[2:], open(sys.argv[1], 'wb'))")
    runner = ShellModelRunner(f"{PY} -c {dump_args} {{model_file}} {{geo_file}} ''", f"{PY} -c pass")
    assert await runner.on_train(ModelConfig(), DATA) == [""]
    with_geo = await runner.on_train(ModelConfig(), DATA, GEO)
    assert [Path(with_geo[0]).name, with_geo[1]] == ["geo.json", ""]


@pytest.mark.parametrize(
    ("train", "predict", "model_format", "message"),
    [
        ("run {output_file}", "run", "pickle", r"unknown placeholder \{output_file\}"),
        ("run", "run {data_file}", "pickle", r"predict_command uses an unknown placeholder \{data_file\}"),
        ("run {model_file!r}", "run", "pickle", "no conversion or format spec"),
        ("run {model_file:>10}", "run", "pickle", "no conversion or format spec"),
        ("run {}", "run", "pickle", "unknown placeholder"),
        ("run {model_file", "run", "pickle", "malformed placeholder"),
        ("", "run", "pickle", "train_command is empty"),
        ("run 'unclosed", "run", "pickle", "cannot be split"),
        ("run", "run", "../model", "model_format"),
        ("run", "run", "", "model_format"),
        ("run", "run", "a/b", "model_format"),
    ],
)
def test_invalid_templates_and_formats_are_refused_at_construction(
    train: str, predict: str, model_format: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ShellModelRunner(train, predict, model_format)


def test_constructor_keeps_the_reference_attributes() -> None:
    runner = ShellModelRunner("train {data_file}", "predict {future_file}", "rds", timeout=30)
    assert (runner.train_command, runner.predict_command, runner.model_format) == (
        "train {data_file}",
        "predict {future_file}",
        "rds",
    )
    assert runner.timeout == 30
    assert ShellModelRunner("a", "b").model_format == "pickle"
    with pytest.raises(ValueError, match="timeout"):
        ShellModelRunner("a", "b", timeout=0)


async def test_a_timeout_kills_the_script_and_what_it_started(tmp_path: Path, workroot: Path) -> None:
    family, marker = write_family_script(tmp_path), new_marker()
    for timeout in (1.5, 4.0, 10.0, 30.0):
        report = tmp_path / f"pids-{timeout}"
        command = f"{PY} {shlex.quote(str(family))} wait {marker} {shlex.quote(str(report))} {{model_file}}"
        runner = ShellModelRunner(command, command.replace("{model_file}", "{output_file}"), timeout=timeout)
        with pytest.raises(ScriptFailedError, match=f"^Training script timed out after {timeout:g} s") as raised:
            await runner.on_train(ModelConfig(), DATA)
        assert raised.value.result.timed_out
        assert entries(workroot) == []
        pids = read_pids(report)
        if pids is not None:
            break
    assert pids is not None, "the process family never reported its pids"
    assert all(has_ended(pid, marker) for pid in pids)


@pytest.mark.parametrize("operation", ["train", "predict"])
async def test_cancellation_kills_the_script_and_removes_the_working_directory(
    tmp_path: Path, workroot: Path, operation: str
) -> None:
    family, marker = write_family_script(tmp_path), new_marker()
    async with pid_reports() as reports:
        command = f"{PY} {shlex.quote(str(family))} wait {marker} {reports.address}"
        runner = ShellModelRunner(command, command)
        if operation == "train":
            running = asyncio.create_task(runner.on_train(ModelConfig(), DATA))
        else:
            running = asyncio.create_task(runner.on_predict(ModelConfig(), {"slope": 1.0}, DATA, FUTURE))
        pids = await reports.next()
        assert len(entries(workroot)) == 1
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    assert all(has_ended(pid, marker) for pid in pids)
    assert entries(workroot) == []


R_TRAIN = """
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[2])
fit <- lm(y ~ x, data = data)
saveRDS(fit, args[3])
"""

R_PREDICT = """
args <- commandArgs(trailingOnly = TRUE)
fit <- readRDS(args[1])
future <- read.csv(args[2])
future$sample_0 <- predict(fit, newdata = future)
write.csv(future, args[3], row.names = FALSE)
"""


async def test_an_r_model_with_saverds_and_readrds(tmp_path: Path, workroot: Path) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not on PATH (the CI script installs R)")
    train, predict = tmp_path / "train.R", tmp_path / "predict.R"
    train.write_text(R_TRAIN)
    predict.write_text(R_PREDICT)
    runner = ShellModelRunner(
        train_command=f"Rscript {shlex.quote(str(train))} {{config_file}} {{data_file}} {{model_file}}",
        predict_command=f"Rscript {shlex.quote(str(predict))} {{model_file}} {{future_file}} {{output_file}}",
        model_format="rds",
    )
    data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [3.0, 5.0, 7.0, 9.0]})
    model = await runner.on_train(BaseConfig(), data)
    assert isinstance(model, bytes) and len(model) > 0
    predictions = await runner.on_predict(BaseConfig(), model, data, pd.DataFrame({"x": [5.0, 6.0]}))
    assert predictions["sample_0"].round(6).tolist() == [11.0, 13.0]
    assert entries(workroot) == []
