"""Smoke tests of the examples without HTTP: the library script and the notebook, each in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.examples.support import EXAMPLES, covers, example_env

NOTEBOOK = EXAMPLES / "notebook" / "embedding.ipynb"

RUN_CELLS = """
import json, sys
notebook = json.load(open(sys.argv[1], encoding="utf-8"))
cells = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
namespace = {"__name__": "__main__"}
for number, source in enumerate(cells, 1):
    exec(compile(source, f"{sys.argv[1]} (code cell {number})", "exec"), namespace)
"""
"""Runs the notebook's code cells in order in one namespace, as a kernel would (without Jupyter)."""


def run(command: list[str], directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=directory, env=example_env(), capture_output=True, text=True, timeout=300, check=False
    )


@covers("library")
def test_library_script_trains_and_predicts_without_http(tmp_path: Path) -> None:
    result = run([sys.executable, str(EXAMPLES / "library" / "main.py"), str(tmp_path)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "full: cases [23.0, 27.0, 31.0]",
        "damped: cases [21.0, 23.0, 25.0]",
        "tree: trained_model with 1 prediction",
        "jobs: 4 ['completed']",
    ]
    assert len(lines) == 5 and lines[4].startswith("not found: "), lines
    assert (tmp_path / "library.db").is_file()


@covers("library")
def test_library_script_without_arguments_uses_a_temporary_directory(tmp_path: Path) -> None:
    result = run([sys.executable, str(EXAMPLES / "library" / "main.py")], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "damped: cases [21.0, 23.0, 25.0]" in result.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


@covers("notebook")
def test_notebook_code_cells_run_in_order(tmp_path: Path) -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)

    result = run([sys.executable, "-c", RUN_CELLS, str(NOTEBOOK)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        "config: last-three window=3",
        "model: trained_model {'mean': 8.0}",
        "tree: trained_model -> ['prediction']",
        "jobs: ['completed', 'completed']",
        "predicted: [8.0, 8.0]",
    ]
    assert list(tmp_path.iterdir()) == []  # memory:// writes nothing
