"""Every Python block of the README runs as written, each on its own, in a fresh process and folder.

A block is run as a module that is not `__main__` (so `if __name__ == "__main__": run_app(app)` builds
the app without serving it); a block that defines `app` must build a FastAPI app. Sections that serve
and query a block (configs, tasks, ML) are driven further by their own tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
