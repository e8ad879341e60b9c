"""ShellModelRunner: scripts on files through /bin/sh -c (D23), quoting, failures and their workspace, limits."""

from __future__ import annotations

import asyncio
import io
import json
import pickle
import shlex
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from geojson_pydantic import FeatureCollection

from chapkit.adapters.runners.script_errors import STDERR_IN_ERROR_CHARS
from chapkit.adapters.runners.shell_model_runner import (
    ScriptFailedError,
    ScriptOutputMissingError,
    ShellModelRunner,
)
from chapkit.adapters.runners.workdirs import workspace_root
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml_artifacts import OUTPUT_TAIL_CHARS, ModelRunFailedError
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
    return workspace_root()


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


async def test_a_failing_script_raises_a_model_run_failure_with_its_stderr(script: str, workroot: Path) -> None:
    runner = model_runner(script)
    with pytest.raises(ScriptFailedError) as raised:
        await runner.on_train(ModelConfig(behaviour="fail"), DATA)
    error = raised.value
    assert isinstance(error, ModelRunFailedError) and isinstance(error, RuntimeError)
    assert error.phase == "train" and error.exit_code == 3 and error.result.exit_code == 3
    # The command as run: the absent {geo_file} left nothing but its space.
    assert error.command.startswith(f"{PY} {script} train ") and error.command.endswith("/model.pickle ")
    assert error.stderr == "boom: column 'y' is missing\n" and error.stdout == ""
    assert str(error) == (
        f"train script failed with exit code 3; command: {error.command}; stderr tail: boom: column 'y' is missing"
    )
    with pytest.raises(
        ScriptFailedError, match=r"^predict script failed with exit code 3; command: .*; stderr tail: boom"
    ):
        await runner.on_predict(ModelConfig(behaviour="fail"), {"slope": 1.0}, DATA, FUTURE)
    assert entries(workroot) == []


async def test_the_error_survives_pickling_with_its_result(script: str, workroot: Path) -> None:
    with pytest.raises(ScriptFailedError) as raised:
        await model_runner(script).on_train(ModelConfig(behaviour="fail"), DATA)
    copy = pickle.loads(pickle.dumps(raised.value))
    assert type(copy) is ScriptFailedError and str(copy) == str(raised.value)
    assert copy.result == raised.value.result and copy.phase == "train"
    assert (copy.command, copy.exit_code, copy.stdout, copy.stderr, copy.workspace) == (
        raised.value.command,
        3,
        "",
        raised.value.stderr,
        raised.value.workspace,
    )


def zip_names(workspace: bytes | None) -> list[str]:
    assert workspace is not None
    with zipfile.ZipFile(io.BytesIO(workspace)) as archive:
        return sorted(archive.namelist())


def zip_text(workspace: bytes | None, name: str) -> str:
    assert workspace is not None
    with zipfile.ZipFile(io.BytesIO(workspace)) as archive:
        return archive.read(name).decode()


async def test_a_script_exiting_non_zero_leaves_its_workspace_zipped_in_the_error(workroot: Path) -> None:
    # What a script writes before failing is in the zip with the inputs chapkit wrote.
    train = "echo partial > notes.txt; echo reading {data_file}; echo boom >&2; exit 3"
    runner = ShellModelRunner(train, "cat {future_file}; >&2 echo 'no model here'; exit 4")
    with pytest.raises(ScriptFailedError) as raised:
        await runner.on_train(ModelConfig(scale=2.5), DATA, GEO)
    error = raised.value
    assert "boom" in str(error) and "exit code 3" in str(error)
    assert error.exit_code == 3 and error.stderr == "boom\n" and error.stdout.startswith("reading /")
    assert zip_names(error.workspace) == ["config.json", "data.csv", "geo.json", "notes.txt"]
    assert json.loads(zip_text(error.workspace, "config.json"))["scale"] == 2.5
    assert pd.read_csv(io.StringIO(zip_text(error.workspace, "data.csv"))).equals(DATA)
    assert zip_text(error.workspace, "notes.txt") == "partial\n"
    assert entries(workroot) == []  # zipped first, then removed

    with pytest.raises(ScriptFailedError) as raised:
        await runner.on_predict(ModelConfig(), {"slope": 1.0}, DATA, FUTURE)
    error = raised.value
    assert error.phase == "predict" and error.exit_code == 4
    assert str(error).endswith("stderr tail: no model here")
    assert error.stdout == FUTURE.to_csv(index=False)
    assert zip_names(error.workspace) == ["config.json", "future.csv", "historic.csv", "model.pickle"]
    assert entries(workroot) == []


async def test_the_message_quotes_the_last_ten_stderr_lines(workroot: Path) -> None:
    train = "for i in $(seq 1 30); do echo line $i >&2; done; printf '\\n\\n' >&2; exit 1"
    with pytest.raises(ScriptFailedError) as raised:
        await ShellModelRunner(train, "true").on_train(ModelConfig(), DATA)
    tail = " | ".join(f"line {i}" for i in range(21, 31))
    assert str(raised.value).endswith(f"; stderr tail: {tail}")
    assert raised.value.stderr_tail() == tail and raised.value.stderr_tail(2) == "line 29 | line 30"


async def test_a_silent_failure_says_so(workroot: Path) -> None:
    with pytest.raises(ScriptFailedError, match=r"^train script failed with exit code 1; command: false; "):
        await ShellModelRunner("false", "true").on_train(ModelConfig(), DATA)
    with pytest.raises(ScriptFailedError, match=r"stderr tail: <no stderr output>$"):
        await ShellModelRunner("false", "true").on_train(ModelConfig(), DATA)


R_FAILING = """\
x <- 1
warning("a deferred warning")
stop("boom")
"""


async def test_an_r_stop_shows_its_message_not_only_execution_halted(tmp_path: Path, workroot: Path) -> None:
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not on PATH (the CI script installs R)")
    script = tmp_path / "fail.R"
    script.write_text(R_FAILING)
    runner = ShellModelRunner(f"Rscript {shlex.quote(str(script))} {{data_file}}", "true", model_format="rds")
    with pytest.raises(ScriptFailedError) as raised:
        await runner.on_train(BaseConfig(), DATA)
    message = str(raised.value)
    assert "boom" in message and "exit code 1" in message
    assert "Execution halted" in raised.value.stderr and not message.endswith("Execution halted")
    assert "data.csv" in zip_names(raised.value.workspace)


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
    error = raised.value
    message = str(error)
    assert message.startswith("train script failed with exit code 1; command: ")
    assert "; stderr tail: ...nnnn" in message and message.endswith("nnnn | FINAL LINE")
    assert len(message) < len(error.command) + STDERR_IN_ERROR_CHARS + 200
    assert error.result.stderr_truncated
    assert len(error.stderr) == OUTPUT_TAIL_CHARS and error.stderr.endswith("\nFINAL LINE")
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


async def test_a_program_the_shell_cannot_find(tmp_path: Path, workroot: Path) -> None:
    missing = shlex.quote(str(tmp_path / "no-such-program"))
    runner = ShellModelRunner(f"{missing} {{model_file}}", f"{missing} {{output_file}}")
    with pytest.raises(
        ScriptFailedError, match=r"^train script failed with exit code 127; .*no-such-program: not found"
    ):
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


DUMP_ARGS = shlex.quote("import pickle, sys; pickle.dump(sys.argv[2:], open(sys.argv[1], 'wb'))")


async def test_templates_run_through_the_shell_with_pipes_redirects_and_literal_braces(
    tmp_path: Path, workroot: Path
) -> None:
    log = tmp_path / "log.txt"
    template = (
        f">&2 echo starting && echo {{{{literal}}}} | tr a-z A-Z > {shlex.quote(str(log))}; "
        f"{PY} -c {DUMP_ARGS} {{model_file}} \"$(basename {{data_file}})\" 'a b' x{{geo_file}} 2>&1"
    )
    runner = ShellModelRunner(template, f"{PY} -c pass {{output_file}}")
    assert await runner.on_train(ModelConfig(), DATA) == ["data.csv", "a b", "x"]
    assert log.read_text() == "{LITERAL}\n"
    assert entries(workroot) == []


@pytest.fixture
def awkward_workroot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root for working directories whose path needs quoting everywhere it stands."""
    root = tmp_path / 'work dir $HOME `id` it\'s "quoted" #not-a-comment'
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return workspace_root()


async def test_substituted_paths_are_quoted_for_where_they_stand(awkward_workroot: Path) -> None:
    template = (
        f"{PY} -c {DUMP_ARGS} {{model_file}} {{data_file}} \"{{config_file}}\" '{{data_file}}' "
        f'"$(cat {{config_file}} > /dev/null && echo {{data_file}})" {{geo_file}} # a comment with {{data_file}}'
    )
    runner = ShellModelRunner(template, "true")
    arguments = await runner.on_train(ModelConfig(), DATA, GEO)
    workdir = Path(arguments[0]).parent
    assert workdir.parent == awkward_workroot
    data, config = str(workdir / "data.csv"), str(workdir / "config.json")
    assert arguments == [data, config, data, data, str(workdir / "geo.json")]
    assert entries(awkward_workroot) == []


async def test_an_absent_geo_file_is_no_argument_but_a_literal_empty_one_stays(workroot: Path) -> None:
    runner = ShellModelRunner(f"{PY} -c {DUMP_ARGS} {{model_file}} {{geo_file}} ''", f"{PY} -c pass")
    assert await runner.on_train(ModelConfig(), DATA) == [""]
    with_geo = await runner.on_train(ModelConfig(), DATA, GEO)
    assert [Path(with_geo[0]).name, with_geo[1]] == ["geo.json", ""]
    quoted = ShellModelRunner(f'{PY} -c {DUMP_ARGS} {{model_file}} "{{geo_file}}"', f"{PY} -c pass")
    assert await quoted.on_train(ModelConfig(), DATA) == [""]  # as `"{geo_file}"` is in the reference


@pytest.mark.parametrize(
    ("train", "predict", "model_format", "message"),
    [
        ("run {output_file}", "run", "pickle", r"unknown placeholder \{output_file\}"),
        ("run", "run {data_file}", "pickle", r"predict_command uses an unknown placeholder \{data_file\}"),
        ("run {model_file!r}", "run", "pickle", "no conversion or format spec"),
        ("run {model_file:>10}", "run", "pickle", "no conversion or format spec"),
        ("run {}", "run", "pickle", "unknown placeholder"),
        ("run {model_file", "run", "pickle", "malformed placeholder"),
        ("run }", "run", "pickle", "malformed placeholder"),
        ("run {model_file.x}", "run", "pickle", "unknown placeholder"),
        ("", "run", "pickle", "train_command is empty"),
        ("  \n", "run", "pickle", "train_command is empty"),
        ("run 'unclosed {model_file}", "run", "pickle", r"unclosed single quote"),
        ("run", 'run "{output_file}', "pickle", r"predict_command has an unclosed double quote"),
        ("run $(cat {model_file}", "run", "pickle", r"unclosed command substitution"),
        ("run \\{model_file}", "run", "pickle", "cannot follow a backslash"),
        ("run `cat {model_file}`", "run", "pickle", "inside backquotes"),
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
        with pytest.raises(ScriptFailedError, match=f"^train script timed out after {timeout:g} s; command") as raised:
            await runner.on_train(ModelConfig(), DATA)
        assert raised.value.result.timed_out and raised.value.exit_code == -15
        note = f"chapkit: the script timed out after {timeout:g} s; its process group was killed"
        assert raised.value.stderr == f"{note}\n" and raised.value.stderr_tail() == note
        assert str(raised.value).endswith(f"stderr tail: {note}")
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


async def test_a_script_killed_by_a_signal_says_so_after_its_own_stderr(workroot: Path) -> None:
    with pytest.raises(ScriptFailedError) as raised:
        await ShellModelRunner("echo 'allocating' >&2; exec kill -KILL $$", "true").on_train(ModelConfig(), DATA)
    error = raised.value
    assert error.exit_code == -9 and error.outcome == "was killed by signal SIGKILL"
    assert (
        error.stderr == "allocating\nchapkit: the script was killed by signal SIGKILL; its process group was killed\n"
    )
    assert str(error).startswith("train script was killed by signal SIGKILL; command: ")
    assert (
        error.stderr_tail()
        == "allocating | chapkit: the script was killed by signal SIGKILL; its process group was killed"
    )
