"""Bad-input run: a real ML service gets large and malformed requests; no answer may be a 5xx.

Starts an ML service (MLServiceBuilder with tasks, on an SQLite file, served by uvicorn) in a child
process and sends it, in order:

- a config of `--size-mb` MB of JSON, an artifact of that size, a body of that size that is not JSON,
  and a `$train` whose frame is that size (the job must complete);
- JSON nested `--depth` levels deep, to every route that takes a body;
- malformed ULIDs (and an id 10,000 characters long) on every route with an id in its path, for every
  method it serves;
- NUL characters and lone UTF-16 surrogates in names, data, commands and frames;
- path traversal on the static mounts (raw request lines, so no client tidies the path first).

It checks that no answer is a 5xx, that no traversal leaks a file, and that a config, an artifact and
a task stored before the run are unchanged after it, then prints the server's peak memory (VmHWM from
/proc) after each group and at the end. Exit status 1 when a check fails.

    .venv/bin/python bench/bad_input.py [--size-mb 20] [--depth 10000] [--database-url URL]

Not run in CI (`tests/e2e/test_bad_input.py` runs the cases with small sizes). Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from chapkit import ArtifactHierarchy, BaseConfig, FunctionalModelRunner, MLServiceBuilder, MLServiceInfo

JSON = {"content-type": "application/json"}
BAD_IDS = ["not-a-ulid", "01K0000000000000000000000", "0" * 27, "ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "%00", "x" * 10_000]
TRAVERSALS = [
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/..\\..\\..\\etc\\passwd",
    "/index.html%00.txt",
    "/docs/assets/../../../../etc/passwd",
    "/docs/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/docs/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "//etc/passwd",
]
LEAK_MARKERS = (b"root:x:", b"root:*:", b"[project]")
"""What a leaked /etc/passwd or project file would contain."""


# ---------------------------------------------------------------------------------------------- server


def on_train(config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
    """The model is the mean of the target."""
    return {"mean": float(pd.to_numeric(data["disease_cases"]).mean()), "rows": float(len(data))}


def on_predict(
    config: BaseConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """Predict the mean everywhere."""
    return future.assign(disease_cases=model["mean"])


def build_service(database_url: str) -> Any:
    """The service under test: an ML service with every module on."""
    return (
        MLServiceBuilder(
            info=MLServiceInfo(display_name="Bad input"),
            config_schema=BaseConfig,
            hierarchy=ArtifactHierarchy(name="bad_input", level_labels={0: "model", 1: "prediction"}),
            runner=FunctionalModelRunner(on_train=on_train, on_predict=on_predict),
            database_url=database_url,
            include_logging=False,
        )
        .with_tasks()
        .build()
    )


def serve(database_url: str, port: int) -> None:
    import uvicorn

    uvicorn.run(build_service(database_url), host="127.0.0.1", port=port, log_level="warning")


def serve_command(database_url: str, port: int) -> list[str]:
    """The command that serves the bench's service on `port`."""
    return [sys.executable, str(Path(__file__).resolve()), "--serve", database_url, str(port)]


# ---------------------------------------------------------------------------------------------- bodies


def frame(target_bytes: int) -> dict[str, Any]:
    """A training frame of about `target_bytes` bytes of JSON: periods, locations and three numbers a row."""
    columns = ["time_period", "location", "rainfall", "mean_temperature", "disease_cases"]
    sample = json.dumps(["2020-01", "location_0000", 123.456, 25.31, 17]) + ", "
    rows = max(2, target_bytes // len(sample))
    data = [
        [
            f"{2000 + index // 12 % 100}-{index % 12 + 1:02d}",
            f"location_{index % 997:04d}",
            index % 1000 / 7,
            25.31,
            index % 50,
        ]
        for index in range(rows)
    ]
    return {"columns": columns, "data": data}


def numbers(target_bytes: int) -> list[float]:
    """A list of about `target_bytes` bytes of JSON numbers."""
    return [index / 7 for index in range(max(1, target_bytes // 20))]


def deep(depth: int, inner: str = "1") -> bytes:
    """JSON nested `depth` levels deep, half lists and half objects."""
    half = depth // 2
    return ('{"a": ' * half + "[" * (depth - half) + inner + "]" * (depth - half) + "}" * half).encode()


def utf8_json(value: Any) -> bytes:
    """`value` as JSON bytes, escapes written as they are (a lone surrogate cannot be encoded otherwise)."""
    return json.dumps(value).encode()


# ---------------------------------------------------------------------------------------------- run


@dataclass
class Run:
    """What the run saw: every answer's status by case, and the failures."""

    base: str
    pid: int | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    peaks: list[tuple[str, int]] = field(default_factory=list)
    stored_before: dict[str, Any] = field(default_factory=dict)
    stored_after: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print

    def record(self, case: str, status: int, *, expect: set[int] | None = None, body: bytes = b"") -> None:
        self.statuses[case] = status
        if status >= 500:
            self.failures.append(f"{case}: {status} {body[:300]!r}")
        elif expect is not None and status not in expect:
            self.failures.append(f"{case}: {status}, expected one of {sorted(expect)}: {body[:300]!r}")

    def peak(self, group: str) -> None:
        if self.pid is None:
            return
        _, hwm = memory_kib(self.pid)
        self.peaks.append((group, hwm))
        self.log(f"  after {group:<28} peak (VmHWM) {hwm / 1024:7.1f} MiB")


def memory_kib(pid: int) -> tuple[int, int]:
    """The process's (VmRSS, VmHWM) in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


async def send(run: Run, client: httpx.AsyncClient, case: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send one request and record its status."""
    expect = kwargs.pop("expect", None)
    response = await client.request(method, path, **kwargs)
    run.record(case, response.status_code, expect=expect, body=response.content)
    return response


async def wait_for_job(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """Poll a job until it ends."""
    while True:
        record: dict[str, Any] = (await client.get(f"/api/v1/jobs/{job_id}")).json()
        if record["status"] in {"completed", "failed", "canceled"}:
            return record
        await asyncio.sleep(0.05)


async def stored_state(client: httpx.AsyncClient, ids: dict[str, str]) -> dict[str, Any]:
    """What the run must leave unchanged: the config, artifact and task stored before it."""
    return {
        "config": (await client.get(f"/api/v1/configs/{ids['config']}")).json(),
        "artifact": (await client.get(f"/api/v1/artifacts/{ids['artifact']}")).json(),
        "task": (await client.get(f"/api/v1/tasks/{ids['task']}")).json(),
        "linked": (await client.get(f"/api/v1/configs/{ids['config']}/$artifacts")).json(),
    }


async def seed(client: httpx.AsyncClient) -> dict[str, str]:
    """Store a config, a model artifact linked to it and a task, before the bad input starts."""
    config = (await client.post("/api/v1/configs", json={"name": "kept", "data": {"epochs": 3}})).json()
    artifact = (await client.post("/api/v1/artifacts", json={"data": {"weights": [1.5, 2.5]}})).json()
    linked = await client.post(f"/api/v1/configs/{config['id']}/$link-artifact", json={"artifact_id": artifact["id"]})
    linked.raise_for_status()
    task = (await client.post("/api/v1/tasks", json={"command": "echo kept"})).json()
    return {"config": config["id"], "artifact": artifact["id"], "task": task["id"]}


async def large_bodies(run: Run, client: httpx.AsyncClient, size: int, config_id: str) -> None:
    """Bodies of `size` bytes: a config, an artifact, a body that is no JSON, a training frame."""
    await send(
        run, client, "large config", "POST", "/api/v1/configs", json={"name": "big", "data": {"x": numbers(size)}}
    )
    response = await send(
        run, client, "large artifact", "POST", "/api/v1/artifacts", json={"data": {"x": numbers(size)}}
    )
    if response.status_code == 201:
        await send(run, client, "large artifact delete", "DELETE", f"/api/v1/artifacts/{response.json()['id']}")
    garbage = (b"not json, " * (size // 10 + 1))[:size]
    for path in ("/api/v1/configs", "/api/v1/artifacts", "/api/v1/ml/$train"):
        await send(
            run, client, f"large non-JSON {path}", "POST", path, content=garbage, headers=JSON, expect={400, 422}
        )
    run.peak("large config/artifact/garbage")
    body = {"config_id": config_id, "data": frame(size)}
    response = await send(run, client, "large $train", "POST", "/api/v1/ml/$train", json=body, expect={202})
    del body
    if response.status_code == 202:
        record = await wait_for_job(client, response.json()["job_id"])
        if record["status"] != "completed":
            run.failures.append(f"large $train job ended {record['status']}: {record.get('error')}")
        else:
            await send(run, client, "large model delete", "DELETE", f"/api/v1/artifacts/{record['artifact_id']}")
    run.peak("large $train")


async def deep_bodies(run: Run, client: httpx.AsyncClient, depth: int, ids: dict[str, str]) -> None:
    """JSON nested `depth` levels deep, to every route that takes a body (whole and inside a member)."""
    nested = deep(depth)
    targets = [
        ("POST", "/api/v1/configs", b'{"name": "deep", "data": ' + nested + b"}"),
        ("PUT", f"/api/v1/configs/{ids['config']}", b'{"name": "deep", "data": ' + nested + b"}"),
        ("POST", "/api/v1/artifacts", b'{"data": ' + nested + b"}"),
        ("PUT", f"/api/v1/artifacts/{ids['artifact']}", b'{"data": ' + nested + b"}"),
        ("POST", "/api/v1/tasks", b'{"command": "echo", "parameters": ' + nested + b"}"),
        ("POST", f"/api/v1/configs/{ids['config']}/$link-artifact", nested),
        ("POST", "/api/v1/ml/$train", b'{"config_id": "' + ids["config"].encode() + b'", "data": ' + nested + b"}"),
        (
            "POST",
            "/api/v1/ml/$predict",
            b'{"model_artifact_id": "'
            + ids["artifact"].encode()
            + b'", "historic": '
            + nested
            + b', "future": '
            + nested
            + b"}",
        ),
        (
            "POST",
            "/api/v1/ml/$validate",
            b'{"type": "train", "config_id": "' + ids["config"].encode() + b'", "geo": ' + nested + b"}",
        ),
        ("POST", "/api/v1/ml/$train", nested),
    ]
    for method, path, body in targets:
        await send(
            run, client, f"deep {method} {path}", method, path, content=body, headers=JSON, expect={400, 404, 413, 422}
        )
    run.peak("deep JSON")


async def bad_ids(run: Run, client: httpx.AsyncClient) -> None:
    """Malformed ids on every route with an id in its path, for every method it serves."""
    spec = (await client.get("/openapi.json")).json()
    for template, operations in spec["paths"].items():
        if "{" not in template or template.endswith("/$stream"):
            continue  # streams answer 200 and never end for a good id, and are checked with a bad one below
        for method in operations:
            for bad in BAD_IDS:
                path = _fill(template, bad)
                body = {} if method in ("post", "put") else None
                await send(
                    run,
                    client,
                    f"bad id {method.upper()} {template} {bad[:12]}",
                    method.upper(),
                    path,
                    json=body,
                    expect={400, 404, 405, 422},
                )
    for bad in BAD_IDS[:3]:
        await send(run, client, f"bad id stream {bad}", "GET", f"/api/v1/jobs/{bad}/$stream", expect={400, 404, 422})
    run.peak("malformed ids")


def _fill(template: str, value: str) -> str:
    parts = template.split("/")
    return "/".join(value if part.startswith("{") and part.endswith("}") else part for part in parts)


async def bad_text(run: Run, client: httpx.AsyncClient, ids: dict[str, str]) -> None:
    """NUL characters and lone surrogates wherever text goes in."""
    train_frame = {"columns": ["time_period", "location", "disease_cases"], "data": [["2020-01", "a", 1]]}
    for name, text in (("NUL", "a\u0000b"), ("lone surrogate", "a\ud800b"), ("reversed pair", "\udc00\ud800")):
        bad_frame = {"columns": ["time_period", "location", "disease_cases"], "data": [["2020-01", text, 1]]}
        targets: list[tuple[str, str, Any]] = [
            ("POST", "/api/v1/configs", {"name": text, "data": {}}),
            ("POST", "/api/v1/configs", {"name": "ok", "data": {"k": text}}),
            ("POST", "/api/v1/configs", {"name": "ok", "data": {text: 1}}),
            ("PUT", f"/api/v1/configs/{ids['config']}", {"name": text, "data": {"epochs": 3}}),
            ("POST", "/api/v1/artifacts", {"data": {"k": [text]}}),
            ("PUT", f"/api/v1/artifacts/{ids['artifact']}", {"data": text}),
            ("POST", "/api/v1/tasks", {"command": f"echo {text}"}),
            ("POST", "/api/v1/tasks", {"command": "echo", "parameters": {"k": text}}),
            ("PUT", f"/api/v1/tasks/{ids['task']}", {"command": f"echo {text}"}),
            ("POST", "/api/v1/ml/$train", {"config_id": ids["config"], "data": bad_frame}),
            (
                "POST",
                "/api/v1/ml/$train",
                {
                    "config_id": ids["config"],
                    "data": {**train_frame, "columns": ["time_period", text, "disease_cases"]},
                },
            ),
            (
                "POST",
                "/api/v1/ml/$predict",
                {"model_artifact_id": ids["artifact"], "historic": train_frame, "future": bad_frame},
            ),
            ("POST", "/api/v1/ml/$validate", {"type": "train", "config_id": ids["config"], "data": bad_frame}),
        ]
        for method, path, body in targets:
            await send(
                run,
                client,
                f"{name} {method} {path} {json.dumps(body)[:40]}",
                method,
                path,
                content=utf8_json(body),
                headers=JSON,
                expect={400, 404, 422},
            )
    for name, escaped in (("NUL", "a%00b"), ("lone surrogate", "a%ED%A0%80b"), ("invalid UTF-8", "%FF")):
        for path in ("/api/v1/ml/$generate-sample-data?config_id=", "/api/v1/configs/", "/api/v1/jobs?status_filter="):
            await send(run, client, f"{name} in {path}", "GET", path + escaped, expect={400, 404, 422})
    raw_frame = b'{"columns": ["location", "y"], "data": [["a\xed\xa0\x80", 1.0], ["b\x00", 2.0]]}'
    raw_bodies = [
        ("/api/v1/configs", b'{"name": "a\x00b", "data": {}}'),
        ("/api/v1/configs", b'{"name": "a\xed\xa0\x80b", "data": {}}'),
        ("/api/v1/configs", b'{"name": "\xff"}'),
        ("/api/v1/ml/$train", b'{"config_id": "' + ids["config"].encode() + b'", "data": ' + raw_frame + b"}"),
    ]
    for path, raw in raw_bodies:
        await send(
            run, client, f"raw bytes {path} {raw[-40:]!r}", "POST", path, content=raw, headers=JSON, expect={400, 422}
        )
    run.peak("NUL and surrogates")


async def traversal(run: Run, host: str, port: int) -> None:
    """Path traversal on the static mounts, as raw request lines."""
    for path in TRAVERSALS:
        status, body = await raw_get(host, port, path)
        run.record(f"traversal {path}", status, body=body)
        if status == 200 and any(marker in body for marker in LEAK_MARKERS):
            run.failures.append(f"traversal {path}: served a file outside the mount")
    run.peak("path traversal")


async def raw_get(host: str, port: int, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written (httpx would resolve dot segments first)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest


async def bad_input_run(
    base: str, *, size: int, depth: int, pid: int | None = None, log: Callable[[str], None] = print
) -> Run:
    """Send every case to the service at `base`; the returned run holds statuses, failures and peaks."""
    run = Run(base=base, pid=pid, log=log)
    host, port = base.removeprefix("http://").split(":")
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        ids = await seed(client)
        before = await stored_state(client, ids)
        run.peak("start")
        await large_bodies(run, client, size, ids["config"])
        await deep_bodies(run, client, depth, ids)
        await bad_ids(run, client)
        await bad_text(run, client, ids)
        await traversal(run, host, int(port))
        after = await stored_state(client, ids)
        run.stored_before, run.stored_after = before, after
        if after != before:
            run.failures.append(f"stored data changed:\nbefore {before}\nafter  {after}")
    return run


# ---------------------------------------------------------------------------------------------- main


def free_port() -> int:
    # Its own (not bench/upstream.py's): the end-to-end tests import this module as bench.bad_input.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=20)
    parser.add_argument("--depth", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'bad_input.db'}"
        port = free_port()
        server = subprocess.Popen(serve_command(url, port))
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the service did not start")
                time.sleep(0.1)
            print(
                f"storage: {url.split(':')[0]}; python {sys.version.split()[0]}; pid {server.pid}; "
                f"bodies of {args.size_mb} MB; JSON {args.depth} deep"
            )
            started = time.perf_counter()
            run = asyncio.run(bad_input_run(base, size=int(args.size_mb * 1_000_000), depth=args.depth, pid=server.pid))
            _, peak = memory_kib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    counts: dict[int, int] = {}
    for status in run.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    print(
        f"{len(run.statuses)} requests in {time.perf_counter() - started:.1f} s; statuses "
        + ", ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
    )
    for failure in run.failures:
        print(f"FAILED {failure}")
    print(f"server peak memory (VmHWM): {peak / 1024:.1f} MiB ({peak * 1024 / 1e6:.0f} MB)")
    if run.failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
