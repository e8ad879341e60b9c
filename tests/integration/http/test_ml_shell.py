"""Shell model services over HTTP: a Python script, an R script, and scripts that misbehave (D23)."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import pytest

from chapkit import ShellModelRunner
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import (
    artifact_ids,
    create_config,
    frame,
    ml_service,
    predict,
    train,
    wait_for_job,
)

PY = shlex.quote(sys.executable)

PY_MODEL = """\
import csv, pickle, sys
mode = sys.argv[1]
if mode == "train":
    rows = list(csv.DictReader(open(sys.argv[2])))
    slope = sum(float(r["y"]) * float(r["x"]) for r in rows) / sum(float(r["x"]) ** 2 for r in rows)
    pickle.dump({"slope": slope}, open(sys.argv[3], "wb"))
elif mode == "predict":
    slope = pickle.load(open(sys.argv[2], "rb"))["slope"]
    rows = list(csv.DictReader(open(sys.argv[3])))
    with open(sys.argv[4], "w") as out:
        out.write("x,y\\n")
        for r in rows:
            out.write(f"{r['x']},{float(r['x']) * slope}\\n")
elif mode == "silent":
    pass
elif mode == "chatty":
    sys.stdout.write("chatter " * 1_000_000)
    rows = list(csv.DictReader(open(sys.argv[2])))
    pickle.dump({"slope": 1.0}, open(sys.argv[3], "wb"))
elif mode == "hang":
    import time
    time.sleep(600)
"""

R_TRAIN = """\
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
model <- lm(y ~ x, data = data)
saveRDS(model, args[2])
"""

R_PREDICT = """\
args <- commandArgs(trailingOnly = TRUE)
model <- readRDS(args[1])
future <- read.csv(args[2])
future$y <- predict(model, newdata = future)
write.csv(future, args[3], row.names = FALSE)
"""


def python_runner(tmp_path: Path, train_mode: str = "train", timeout: float | None = None) -> ShellModelRunner:
    script = tmp_path / "model.py"
    script.write_text(PY_MODEL)
    return ShellModelRunner(
        train_command=f"{PY} {script} {train_mode} {{data_file}} {{model_file}}",
        predict_command=f"{PY} {script} predict {{model_file}} {{future_file}} {{output_file}}",
        timeout=timeout,
    )


async def test_a_python_script_trains_and_predicts(storage_url: str, tmp_path: Path) -> None:
    async with serve(ml_service(storage_url, runner=python_runner(tmp_path)).build()) as client:
        config_id = await create_config(client)
        submitted = await train(client, config_id)
        assert (await wait_for_job(client, submitted["job_id"]))["status"] == "completed"
        model = (await client.get(f"/api/v1/artifacts/{submitted['model_artifact_id']}")).json()["data"]
        assert model["model"] == {"slope": pytest.approx(2.0)}
        response = await predict(client, submitted["model_artifact_id"])
        record = await wait_for_job(client, response.json()["job_id"])
        assert record["status"] == "completed", record
        stored = (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()["data"]["predictions"]
        assert stored == {"columns": ["x", "y"], "data": [[4.0, 8.0], [5.0, 10.0]]}


@pytest.mark.parametrize(
    ("mode", "timeout", "status", "expected"),
    [
        ("silent", None, "failed", "model file"),
        ("hang", 1.0, "failed", "timed out"),
        ("chatty", None, "completed", None),
    ],
    ids=["writes-nothing", "hangs", "prints-megabytes"],
)
async def test_misbehaving_scripts(
    tmp_path: Path, mode: str, timeout: float | None, status: str, expected: str | None
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}"
    runner = python_runner(tmp_path, train_mode=mode, timeout=timeout)
    async with serve(ml_service(url, runner=runner).build()) as client:
        config_id = await create_config(client)
        record = await wait_for_job(client, (await train(client, config_id))["job_id"])
        assert record["status"] == status, record
        if mode == "hang":  # a script that failed leaves its diagnostic workspace
            assert expected is not None and expected in record["error"].lower()
            [workspace_id] = await artifact_ids(client)
            data = (await client.get(f"/api/v1/artifacts/{workspace_id}")).json()["data"]
            assert data["type"] == "ml_training_workspace" and data["metadata"]["exit_code"] == -15
            assert data["metadata"]["stderr"].endswith("its process group was killed\n")
        elif expected is not None:
            assert expected in record["error"].lower()
            assert await artifact_ids(client) == []
        else:
            assert len(await artifact_ids(client)) == 1


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs Rscript on PATH (Debian package r-base-core)")
@pytest.mark.parametrize("backend", ["sqlite_file", "postgres"])
async def test_an_r_model_trains_and_predicts(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from tests.integration.http.conftest import emptied_postgres_url

    if backend == "sqlite_file":
        url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    else:
        url = await emptied_postgres_url(request)
    (tmp_path / "train.R").write_text(R_TRAIN)
    (tmp_path / "predict.R").write_text(R_PREDICT)
    runner = ShellModelRunner(
        train_command=f"Rscript {tmp_path / 'train.R'} {{data_file}} {{model_file}}",
        predict_command=f"Rscript {tmp_path / 'predict.R'} {{model_file}} {{future_file}} {{output_file}}",
        model_format="rds",
    )
    async with serve(ml_service(url, runner=runner).build()) as client:
        config_id = await create_config(client)
        submitted = await train(client, config_id, frame(["x", "y"], [[1.0, 3.0], [2.0, 5.0], [3.0, 7.0]]))
        record = await wait_for_job(client, submitted["job_id"], timeout=120)
        assert record["status"] == "completed", record
        model = (await client.get(f"/api/v1/artifacts/{submitted['model_artifact_id']}")).json()["data"]
        assert model["model_type"] == "builtins.bytes" and model["model_size_bytes"] > 0
        response = await predict(client, submitted["model_artifact_id"], future=frame(["x"], [[4.0], [10.0]]))
        record = await wait_for_job(client, response.json()["job_id"], timeout=120)
        assert record["status"] == "completed", record
        stored = (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()["data"]["predictions"]
        assert stored["columns"] == ["x", "y"]
        assert [row[1] for row in stored["data"]] == [pytest.approx(9.0), pytest.approx(21.0)]
