"""`scripts/chap-core-env`: no Python 3.13 fails, a working cached environment is reused, a failed build
leaves the cache as it was (the symlink is switched only after a successful install).

The cases that need a real Python 3.13 take it from `CHAPKIT_CHAP_CORE_PYTHON` (skipped without it); none
of them installs chap-core (a failed install is forced by pointing pip at no index).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "chap-core-env"
CHAP_CORE_PYTHON = os.environ.get("CHAPKIT_CHAP_CORE_PYTHON", "")
needs_chap_core = pytest.mark.skipif(not CHAP_CORE_PYTHON, reason="CHAPKIT_CHAP_CORE_PYTHON is not set")


def _run(tmp_path: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The script with only `bin_dir` and the system directories on PATH, its cache under `tmp_path`."""
    clean = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path)}
    return subprocess.run(
        ["bash", str(SCRIPT)], env={**clean, **env}, capture_output=True, text=True, timeout=300, check=False
    )


def _python313_bin(tmp_path: Path) -> tuple[Path, str]:
    """A directory whose `python3.13` is the interpreter chap-core's environment was made from; its version."""
    probe = "import platform, sys; print(sys._base_executable); print(platform.python_version())"
    lines = subprocess.run([CHAP_CORE_PYTHON, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.13").symlink_to(lines[0])
    return bin_dir, lines[1]


def test_no_python_313_is_an_error(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    impostor = bin_dir / "python3.13"  # answers, but is not 3.13 (as a pyenv shim of another version)
    impostor.write_text("#!/bin/sh\nexit 1\n")
    impostor.chmod(0o755)
    result = _run(tmp_path, bin_dir)
    assert result.returncode == 1, result.stderr
    assert "Python 3.13 is needed" in result.stderr and result.stdout == ""
    assert not (tmp_path / "chapkit").exists()


@needs_chap_core
def test_a_working_cached_environment_is_reused(tmp_path: Path) -> None:
    bin_dir, version = _python313_bin(tmp_path)
    environment = Path(CHAP_CORE_PYTHON).parent.parent
    cache = tmp_path / "chapkit" / "chap-core"
    cache.mkdir(parents=True)
    (cache / f"2.5.1-py{version}").symlink_to(environment.resolve())
    result = _run(tmp_path, bin_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(environment.resolve() / "bin" / "python")
    assert "building" not in result.stderr
    assert [path.name for path in cache.iterdir()] == [f"2.5.1-py{version}"]  # nothing built, nothing locked


@needs_chap_core
def test_a_failed_build_leaves_the_cache_as_it_was(tmp_path: Path) -> None:
    bin_dir, version = _python313_bin(tmp_path)
    cache = tmp_path / "chapkit" / "chap-core"
    key = f"2.5.1-py{version}"
    broken = cache / f"{key}.before"  # an environment chap-core no longer imports in
    (broken / "bin").mkdir(parents=True)
    (cache / key).symlink_to(broken.name)
    interrupted = cache / f"{key}.Xq3vZ9"  # a build that was killed half way
    (interrupted / "lib").mkdir(parents=True)
    result = _run(tmp_path, bin_dir, PIP_NO_INDEX="1", PIP_FIND_LINKS="", PIP_CONFIG_FILE=os.devnull)
    assert result.returncode != 0
    assert "building chap-core 2.5.1" in result.stderr
    assert os.readlink(cache / key) == broken.name  # the link was not switched to a half-built environment
    assert sorted(path.name for path in cache.iterdir()) == sorted([".lock", key, broken.name])
