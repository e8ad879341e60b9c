"""The import-linter contracts hold, and would catch a violation (a domain or application leak)."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import chapkit

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
        ("chapkit/adapters/memory/datastore.py", "import chapkit.adapters.sql", "Adapters are independent"),
        ("chapkit/adapters/sql/types.py", "import dependency_injector", "Only the composition root"),
        ("chapkit/domain/errors.py", "import chapkit.bootstrap", "Layers"),
        ("chapkit/adapters/runners/__init__.py", "import chapkit.adapters.sql", "Adapters are independent"),
    ],
)
def test_a_leak_breaks_a_contract(project_copy: Path, module: str, leak: str, contract: str) -> None:
    path = project_copy / module
    path.write_text(path.read_text() + f"\n{leak}  # noqa\n")
    result = _lint(project_copy)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout


def _layers_contract() -> dict[str, Any]:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (layers,) = [contract for contract in contracts if contract["type"] == "layers"]
    return dict(layers)


def test_every_top_level_package_is_placed_in_the_layers_contract() -> None:
    contract = _layers_contract()
    assert contract["containers"] == ["chapkit"] and contract.get("exhaustive") is True
    placed = {name.strip() for layer in contract["layers"] for name in str(layer).replace(":", "|").split("|")}
    top_level = {module.name for module in pkgutil.iter_modules(chapkit.__path__)}
    assert top_level == placed, f"give every top-level package a layer: {sorted(top_level ^ placed)}"


def test_a_new_top_level_package_breaks_the_layers_contract(project_copy: Path) -> None:
    (project_copy / "chapkit" / "unplaced").mkdir()
    (project_copy / "chapkit" / "unplaced" / "__init__.py").write_text('"""A new package nobody placed."""\n')
    result = _lint(project_copy)
    assert result.returncode != 0
    assert "Layers" in result.stdout and "BROKEN" in result.stdout


def test_the_runners_slot_is_an_independent_adapter() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (independence,) = [contract for contract in contracts if contract["type"] == "independence"]
    assert "chapkit.adapters.runners" in independence["modules"]
