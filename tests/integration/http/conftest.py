"""Helpers for HTTP tests: serve a built app in the test's event loop (lifespan included)."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from ulid import ULID

from chapkit import BaseManager, BaseRepository, BaseServiceBuilder, ServiceInfo, configure_logging, get_session
from chapkit.embedding import open_storage
from tests.conftest import truncate
from tests.support.models import Widget, WidgetIn, WidgetOut

BASE_URL = "http://testserver"


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield a client talking to it over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn on a free loopback port in a thread; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            if not thread.is_alive():
                raise RuntimeError("server did not start")
            threading.Event().wait(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


async def widget_manager(
    session: AsyncSession = Depends(get_session),
) -> BaseManager[Widget, WidgetIn, WidgetOut, ULID]:
    """A user's manager factory, written the way the reference documents it."""
    return BaseManager(BaseRepository(session, Widget), Widget, WidgetOut)


def info(name: str = "Test Service", **extra: Any) -> ServiceInfo:
    return ServiceInfo(display_name=name, **extra)


def builder(url: str = "sqlite+aiosqlite:///:memory:", **kwargs: Any) -> BaseServiceBuilder:
    return BaseServiceBuilder(info=info(), **kwargs).with_database(url)


@pytest.fixture(autouse=True, scope="session")
def _logging_through_stdlib() -> None:
    """Route structlog through the standard library once, so `caplog` sees every event as a dict.

    Loggers cache their configuration on first use; configuring before any test logs keeps every
    cached logger on the same (stdlib) route, whichever test uses it first.
    """
    configure_logging()


def log_events(caplog: pytest.LogCaptureFixture, event: str | None = None) -> list[dict[str, Any]]:
    """The structlog event dicts captured by `caplog` (optionally only those named `event`)."""
    found = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    return [entry for entry in found if event is None or entry.get("event") == event]


@pytest.fixture
def sqlite_file(tmp_path: Any) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"


@pytest.fixture(params=["memory", "sqlite_file", "postgres"])
async def storage_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A database URL for a service: memory, a fresh SQLite file, or this run's PostgreSQL database emptied."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite_file":
        return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    return await emptied_postgres_url(request)


async def emptied_postgres_url(request: pytest.FixtureRequest) -> str:
    """This run's PostgreSQL database (skipped without one), migrated and with every table emptied."""
    url: str = request.getfixturevalue("postgres_url")
    async with open_storage(url) as opened:
        await truncate(opened.database)
    return url
