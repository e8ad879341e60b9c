"""Serve apps with uvicorn on a port the OS picks, and a small orchestrator speaking chap-core's registry protocol."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request, Response


@contextmanager
def served(app: FastAPI) -> Iterator[int]:
    """Serve `app` (lifespan on) on a loopback port the OS picks, in a thread; yield that port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        eventually(lambda: server.started or not thread.is_alive())
        assert server.started, "the server did not start"
        port: int = server.servers[0].sockets[0].getsockname()[1]
        yield port
    finally:
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "the server did not stop"


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until `condition` holds (generous: a busy machine is slow), else fail."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


@dataclass
class Registry:
    """What the orchestrator was told."""

    ttl: int
    registrations: list[dict[str, Any]] = field(default_factory=list)
    pings: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    live: dict[str, str] = field(default_factory=dict)


def orchestrator(ttl: int = 30) -> tuple[FastAPI, Registry]:
    """An orchestrator with chap-core's register, ping and deregister routes, recording every call."""
    app = FastAPI()
    registry = Registry(ttl=ttl)

    @app.post("/v2/services/$register")
    async def register(request: Request, x_service_key: str | None = Header(default=None)) -> dict[str, Any]:
        body = await request.json()
        registry.keys.append(x_service_key)
        registry.registrations.append(body)
        service_id = body["info"]["id"]
        registry.live[service_id] = body["url"]
        ping_url = str(request.base_url).rstrip("/") + f"/v2/services/{service_id}/$ping"
        return {"id": service_id, "status": "registered", "ttl_seconds": registry.ttl, "ping_url": ping_url}

    @app.put("/v2/services/{service_id}/$ping")
    async def ping(service_id: str) -> dict[str, str]:
        registry.pings.append(service_id)
        if service_id not in registry.live:
            raise HTTPException(404)
        return {"id": service_id, "status": "alive"}

    @app.delete("/v2/services/{service_id}", status_code=204)
    async def deregister(service_id: str) -> Response:
        registry.deletes.append(service_id)
        if registry.live.pop(service_id, None) is None:
            raise HTTPException(404)
        return Response(status_code=204)

    return app, registry
