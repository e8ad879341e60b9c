"""Bad input to a real server (uvicorn, an SQLite file): no answer is a 5xx and nothing stored changes.

The cases are the bad-input run's (`bench/bad_input.py`, which also prints the server's peak memory)
with bodies of 2 MB instead of 20 (config data is bounded to 1 MB): large config, artifact, non-JSON
body and training frame, 10,000-deep JSON, malformed ids on every id route, NUL and lone surrogates,
path traversal.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.bad_input import bad_input_run, serve_command
from tests.support.server import free_port, running_server


async def test_bad_input_gets_no_5xx_and_leaves_stored_data_intact(tmp_path: Path) -> None:
    port = free_port()
    command = serve_command(f"sqlite+aiosqlite:///{tmp_path / 'bad_input.db'}", port)
    with running_server(command, tmp_path, dict(os.environ), port) as base:
        run = await bad_input_run(base, size=2_000_000, depth=10_000, log=lambda line: None)
    assert run.failures == []
    assert all(status < 500 for status in run.statuses.values())
    assert run.statuses["large $train"] == 202  # and its job completed (a failure otherwise)
    assert run.statuses["large config"] == 422 and run.statuses["large artifact"] == 201
    assert all(run.statuses[case] == 400 for case in run.statuses if case.startswith("NUL POST"))
    assert run.stored_before == run.stored_after
    assert run.stored_before["config"]["data"] == {"epochs": 3}
    assert [artifact["id"] for artifact in run.stored_after["linked"]] == [run.stored_before["artifact"]["id"]]
    assert len(run.statuses) > 150
