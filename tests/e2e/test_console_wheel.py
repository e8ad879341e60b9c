"""The console's files are in the built wheel: built from a copy of the source, installed into a fresh venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "chapkit" / "adapters" / "http" / "apps" / "landing"
SKIPPED = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "site", "screenshots", "*.egg-info", "__pycache__", "*.db"
)


@pytest.mark.slow
def test_every_console_asset_is_installed_from_the_wheel(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=SKIPPED)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("chapkit-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target, str(wheel)],
        check=True,
        timeout=300,
    )
    installed = Path(target) / "chapkit" / "adapters" / "http" / "apps" / "landing"
    expected = sorted(path.name for path in CONSOLE.iterdir() if path.is_file())
    assert {"index.html", "manifest.json", "app.js", "style.css"} <= set(expected)
    assert sorted(path.name for path in installed.iterdir() if path.is_file()) == expected
    for name in expected:
        assert (installed / name).read_bytes() == (CONSOLE / name).read_bytes(), name
