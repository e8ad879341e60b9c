"""Helpers the benches share to run a service in a child process, here or on chapkit 2.4.1 (the newer upstream).

- `free_port()`: a free TCP port on 127.0.0.1.
- `chap_core_python()`: the interpreter of an environment holding chapkit 2.4.1 under Python 3.13
  (CHAPKIT_BENCH_UPSTREAM_PYTHON, else CHAPKIT_CHAP_CORE_PYTHON, else the chap-core environment that
  scripts/chap-core-env builds). Run it with `-I` from a directory outside this checkout, so that
  this checkout's chapkit is not the one imported.
- `side_by_side()`: the interpreters of chapkit 2.4.1 and of this checkout's chapkit (its wheel in a
  cached venv, `ours_on`) on the same Python 3.13.
- `started(command, directory, env)`: starts a server, waits for its `/health` and stops it on exit.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "chapkit" / "bench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def chap_core_python() -> str | None:
    """The chap-core environment's interpreter (it holds chapkit 2.4.1), building it when needed."""
    found = os.environ.get("CHAPKIT_BENCH_UPSTREAM_PYTHON") or os.environ.get("CHAPKIT_CHAP_CORE_PYTHON")
    if found:
        return found
    done = subprocess.run([str(REPOSITORY / "scripts" / "chap-core-env")], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def ours_on(base_python: str) -> str:
    """A venv of `base_python` with this checkout's chapkit installed from its wheel (cached per wheel)."""
    sys.path.insert(0, str(REPOSITORY))
    from chapkit.cli.project_packaging import running_chapkit_wheel

    name, content = running_chapkit_wheel()
    venv = CACHE / f"ours-{Path(base_python).name}-{hashlib.sha256(content).hexdigest()[:12]}"
    python = venv / "bin" / "python"
    if not python.exists():
        wheel = Path(tempfile.mkdtemp()) / name
        wheel.write_bytes(content)
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    return str(python)


def side_by_side() -> tuple[str, str]:
    """The interpreters of chapkit 2.4.1 and of this checkout's chapkit on the same Python 3.13."""
    upstream = chap_core_python()
    if upstream is None:
        raise SystemExit("no Python with chapkit 2.4.1: set CHAPKIT_BENCH_UPSTREAM_PYTHON (or skip the comparison)")
    base = subprocess.run(
        [upstream, "-c", "import sys; print(sys._base_executable)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return upstream, ours_on(base)


def clean_env(port: int, **extra: str) -> dict[str, str]:
    """This process's environment for a server on `port`: no PYTHONPATH or database URL leaking in."""
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning", **extra}
    for name in ("PYTHONPATH", "CHAPKIT_DATABASE_URL", "DATABASE_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


@contextlib.contextmanager
def started(
    command: list[str], directory: Path, env: dict[str, str], timeout: float = 120
) -> Iterator[subprocess.Popen[bytes]]:
    """A server started by `command` in `directory`, once its `/health` answers 200; stopped on exit.

    Its output goes to `directory/server.log`, shown when it does not start.
    """
    log_path = directory / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/health", timeout=1) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{' '.join(command)} did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield server
        finally:
            server.terminate()
            server.wait(timeout=30)
