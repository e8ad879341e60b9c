"""A started service holds only what serving needs: no pandas, numpy, command line or HTTP client.

Many model services run side by side on one CHAP host, so what an idle service holds counts per model
(bench/memory.py measures it against chapkit 2.4.1). pandas and numpy load with the first frame, the
command line's typer and rich only for `chapkit` commands, httpx only for registration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.cli.support import sample, wait_for_job
from tests.support.server import free_port, running_server

AT_REST = ["pandas", "numpy", "pyarrow", "typer", "httpx", "chapkit.cli"]

SCRIPT = """
import asyncio, json, sys
from chapkit.demo.main_service import build_main_app

async def main():
    app = build_main_app(sys.argv[1])
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "path": "/health",
             "raw_path": b"/health", "query_string": b"", "headers": [], "scheme": "http", "server": ("test", 80),
             "client": ("test", 1), "root_path": "", "state": {}}
    async with app.router.lifespan_context(app) as state:
        scope["state"] = dict(state or {})
        await app(scope, receive, send)
    return sent[0]["status"]

status = asyncio.run(main())
print(json.dumps({"status": status, "loaded": [name for name in json.loads(sys.argv[2]) if name in sys.modules]}))
"""


def test_the_demo_app_started_and_asked_for_health_has_loaded_none_of_them(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, json.dumps(AT_REST)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome == {"status": 200, "loaded": []}, outcome


def test_python_m_chapkit_maps_no_pandas_or_numpy_library_until_a_frame_is_needed(tmp_path: Path) -> None:
    """The served main job's process has no pandas or numpy extension mapped after /health; a train maps them."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning"}
    env.pop("CHAPKIT_DATABASE_URL", None)
    command = [sys.executable, "-m", "chapkit"]
    log = tmp_path / "service.log"
    with running_server(command, tmp_path, env, port) as base:
        assert httpx.get(f"{base}/health").status_code == 200
        pid = _server_pid(port)
        assert not _mapped(pid, ("/pandas/", "/numpy/")), "pandas or numpy is loaded in an idle service"
        config = httpx.post(f"{base}/api/v1/configs", json={"name": "c", "data": {}}).json()
        train = httpx.post(f"{base}/api/v1/ml/$train", json=sample("train.json", CONFIG_ID=config["id"])).json()
        assert wait_for_job(base, train["job_id"])["status"] == "completed"
        assert _mapped(pid, ("/pandas/",)), "the check cannot see pandas even after a train"
    assert log.exists()


def _server_pid(port: int) -> int:
    """The pid of the process listening on `port` (from /proc: the socket's inode, then the process's fds)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            return int(entry.name)
    raise AssertionError(f"no process listens on {port}")


def _mapped(pid: int, parts: tuple[str, ...]) -> bool:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return any(part in line and ".so" in line for line in maps.splitlines() for part in parts)
