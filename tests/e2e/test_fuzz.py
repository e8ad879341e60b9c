"""Schemathesis over the main job's whole API: no server error, every response as documented (D20).

Bounded: a fixed number of examples per operation and a time limit; the never-ending SSE streams are
excluded. Runs against a real server process on loopback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.test_main_job import free_port, running_main_job

MAX_EXAMPLES = "40"
TIME_LIMIT_SECONDS = 240


def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    port = free_port()
    with running_main_job(tmp_path, port) as base:
        result = subprocess.run(
            [
                str(st),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                MAX_EXAMPLES,
                "--exclude-path-regex",
                r".*/\$stream$",
                "--request-timeout",
                "10",
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT_SECONDS,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
