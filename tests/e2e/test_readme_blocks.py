"""Every Python block of the README runs as written, each on its own, in a fresh process and folder.

A block is run as a module that is not `__main__` (so `if __name__ == "__main__": run_app(app)` builds
the app without serving it); a block that defines `app` must build a FastAPI app. Sections that serve
and query a block (configs, tasks, ML) are driven further by their own tests.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from chapkit.cli import app
from chapkit.cli.init import Template, project_files
from tests.cli.support import runner
from tests.support.markdown import ROOT, code_blocks

README = ROOT / "README.md"
BLOCKS = [block.code for block in code_blocks(README, "python")]

RUNNER = """
import runpy, sys
namespace = runpy.run_path(sys.argv[1], run_name="readme_block")
app = namespace.get("app")
if app is not None:
    from fastapi import FastAPI
    assert isinstance(app, FastAPI), type(app)
"""


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=lambda index: f"block-{index + 1}")
def test_a_readme_block_runs_on_its_own(index: int, tmp_path: Path) -> None:
    block = tmp_path / "block.py"
    block.write_text(BLOCKS[index])
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(block)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"README block {index + 1}:\n{BLOCKS[index]}\n{result.stderr[-3000:]}"


TEST_BLOCKS = [block for block in BLOCKS if re.search(r"^(async )?def test_", block, re.M)]
BASH_BLOCKS = [block.code for block in code_blocks(README, "bash")]


def _commands(prefix: str) -> list[str]:
    """Every command line of the README's bash blocks that starts with `prefix`, its comment dropped."""
    return [
        line.split(" #")[0].strip()
        for block in BASH_BLOCKS
        for line in block.splitlines()
        if line.startswith(prefix + " ")
    ]


@pytest.mark.parametrize("index", range(len(TEST_BLOCKS)), ids=lambda index: f"test-block-{index + 1}")
def test_a_readme_test_to_copy_passes_in_a_project_of_its_own(index: int, tmp_path: Path) -> None:
    """Under pytest's defaults (no asyncio_mode), as in a reader's project: the block says what it needs."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_copied.py").write_text(TEST_BLOCKS[index])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_copied.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    tests = len(re.findall(r"^(?:async )?def test_", TEST_BLOCKS[index], re.M))
    assert result.returncode == 0 and f"{tests} passed" in result.stdout, result.stdout[-3000:] + result.stderr


def test_the_readme_has_a_test_to_copy_and_chapkit_commands() -> None:
    assert TEST_BLOCKS and len(_commands("chapkit")) >= 8


@pytest.mark.parametrize("command", _commands("chapkit"))
def test_every_chapkit_command_of_the_readme_parses(command: str) -> None:
    """Its command and options exist (`--help` after them: parsed, not run)."""
    result = runner.invoke(app, [*shlex.split(command)[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_the_readme_installs_a_projects_test_tools_before_running_its_tests() -> None:
    lines = [line.split(" #")[0].strip() for block in BASH_BLOCKS for line in block.splitlines()]
    for number, line in enumerate(lines):
        if "python -m pytest" in line and any(line.startswith(step) for step in ("cd flu-model", "pip install")):
            before = " ".join(lines[max(0, number - 2) : number + 1])
            assert "pip install -e '.[dev]'" in before, line
    dev_extra = project_files("flu-model", Template.fn_py)["setup.py"]  # the dependencies are there (D28)
    assert '"dev": [f"chapkit[testing] @ {WHEEL_URL}"]' in dev_extra  # pytest, pytest-asyncio and the plugin
