"""The console ships in the wheel: built from the source, installed into a fresh venv, every asset served from there."""

from __future__ import annotations

import json
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

    # Served from the installed copy: every asset loads over HTTP with the bytes of the source.
    serve = f"""
import json, sys
from pathlib import Path
import chapkit
assert Path(chapkit.__file__).resolve().is_relative_to(Path({target!r}).resolve()), chapkit.__file__
from fastapi import FastAPI
from fastapi.testclient import TestClient
from chapkit.adapters.http import landing_page_app, mount_apps
app = FastAPI()
mount_apps(app, [landing_page_app()])
client = TestClient(app)
names = {expected!r}
loaded = {{name: client.get("/" + ("" if name == "index.html" else name)).content.hex() for name in names}}
print(json.dumps(loaded))
"""
    result = subprocess.run(
        [sys.executable, "-c", serve],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": target, "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,  # not the checkout: `python -c` puts the working directory first on sys.path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    for name in expected:
        assert bytes.fromhex(loaded[name]) == (CONSOLE / name).read_bytes(), name
