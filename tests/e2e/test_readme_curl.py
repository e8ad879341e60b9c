"""The README's curl session against the main job in a real server process, run by bash as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_main_job import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs bash and curl")
def test_the_readme_curl_session_trains_and_predicts(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The demo model service with curl") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    port = free_port()
    script = block.group(1).replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning"}
    env.pop("CHAPKIT_DATABASE_URL", None)
    with running_server([sys.executable, "-m", "chapkit"], tmp_path, env, port):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    outputs, text, decoder = [], done.stdout.strip(), json.JSONDecoder()
    while text:  # curl prints each body without a newline: a sequence of JSON documents
        value, end = decoder.raw_decode(text)
        outputs.append(value)
        text = text[end:].strip()
    job, prediction, tree = outputs
    assert job["status"] == "completed", job
    columns = prediction["data"]["predictions"]["columns"]
    assert "disease_cases" in columns and columns[-1] == "sample_99"
    assert tree["children"][0]["id"] == prediction["id"] and tree["config"]["name"] == "monthly"
