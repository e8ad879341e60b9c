"""The import-linter contracts hold, and would catch a violation (a domain or application leak)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(project), "PATH": str(LINT_IMPORTS.parent)},
        check=False,
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    shutil.copytree(ROOT / "chapkit", tmp_path / "chapkit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold(project_copy: Path) -> None:
    result = _lint(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "leak", "contract"),
    [
        ("chapkit/domain/schemas.py", "import sqlalchemy", "Domain is pure"),
        ("chapkit/application/manager.py", "import chapkit.adapters.memory", "Application uses only the domain"),
        ("chapkit/adapters/memory/database.py", "import chapkit.adapters.sql", "Adapters are independent"),
        ("chapkit/adapters/sql/types.py", "import dependency_injector", "Only the composition root"),
    ],
)
def test_a_leak_breaks_a_contract(project_copy: Path, module: str, leak: str, contract: str) -> None:
    path = project_copy / module
    path.write_text(path.read_text() + f"\n{leak}  # noqa\n")
    result = _lint(project_copy)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
