"""The MLproject fixtures (an R model and a Python model), copied where a test may change or migrate them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlprojects"
R_MODEL = "r_model"
"""Monthly, base R through Rscript: user options, adapters (a column copy and the month), renv_env."""
PYTHON_MODEL = "python_model"
"""Weekly, the standard library and a helper module of its own: user options, adapters (the week), python_env."""


def copy_mlproject(name: str, target: Path, *, venv: bool = False) -> Path:
    """A copy of the fixture `name` at `target`; with `venv`, given a `.venv` of its own (this Python, no pip).

    The `.venv` makes the Python model's `python` this interpreter's, whatever `python` is on PATH.
    """
    shutil.copytree(FIXTURES / name, target)
    if venv:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target / ".venv")], check=True, timeout=120)
    return target


__all__ = ["FIXTURES", "PYTHON_MODEL", "R_MODEL", "copy_mlproject"]
