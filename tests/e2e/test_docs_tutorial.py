"""The tutorial (docs/tutorial.md) runs as written: its files are saved as they are titled, then served and run.

Every Python block of the tutorial has a file name (`title="..."`), so none goes unchecked: the service is
served in a real process and queried by the tutorial's client script, the test file runs under pytest in a
fresh process, and the embedding scripts run on their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_main_job import free_port, running_server
from tests.support.markdown import ROOT, code_blocks

TUTORIAL = ROOT / "docs" / "tutorial.md"
FILES = {block.title: block.code for block in code_blocks(TUTORIAL) if block.title is not None}


def run(args: list[str], directory: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command of the tutorial in `directory`; it must succeed."""
    done = subprocess.run(
        args,
        cwd=directory,
        env={**os.environ, "LOG_LEVEL": "warning", **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder holding the tutorial's files, each saved under its title."""
    for name, code in FILES.items():
        (tmp_path / name).write_text(code)
    return tmp_path


def test_every_python_block_of_the_tutorial_is_a_named_file() -> None:
    python = code_blocks(TUTORIAL, "python")
    assert [block.title for block in python if block.title is None] == []
    assert {"model_service.py", "query.py", "test_model_service.py", "predict_script.py", "predict_async.py"} <= set(
        FILES
    )


def test_the_served_model_trains_and_predicts_over_http(project: Path) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning"}
    with running_server([sys.executable, "model_service.py"], project, env, port) as base:
        done = run([sys.executable, "query.py"], project, CHAPKIT_URL=base)
    lines = done.stdout.splitlines()
    assert lines[:2] == ["train: completed", "predict: completed"], done.stdout
    assert "'disease_cases'" in lines[2] and "112.8" in lines[2], done.stdout
    assert (project / "rainfall.db").exists()


def test_the_tutorial_test_file_passes_under_pytest(project: Path) -> None:
    done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_model_service.py"], project)
    assert "2 passed" in done.stdout, done.stdout


def test_the_embedding_scripts_train_and_predict(project: Path) -> None:
    synchronous = run([sys.executable, "predict_script.py"], project)
    assert "disease_cases" in synchronous.stdout and "112.8" in synchronous.stdout, synchronous.stdout
    run([sys.executable, "predict_script.py"], project)  # again, on the same file: the config is found by name
    asynchronous = run([sys.executable, "predict_async.py"], project)
    assert "trained_model" in asynchronous.stdout, asynchronous.stdout
