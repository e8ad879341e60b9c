"""The pytest plugin: `chapkit_service` (the embedding API on `memory://`) and `chapkit_client` (your app).

Override the `chapkit_service_options` fixture to give the in-memory service your config schema,
hierarchy, model runner or task registry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from fastapi import FastAPI

from chapkit.bootstrap.containers import MEMORY_URL
from chapkit.embedding import ChapkitService
from chapkit.testing.helpers import serve_app


@pytest.fixture
def chapkit_service_options() -> dict[str, Any]:
    """Options for `ChapkitService.open` (config_schema, hierarchy, runner, task_registry); override it."""
    return {}


try:  # installing chapkit registers this plugin: it must not break pytest where the extra is missing
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised only without the `testing` extra
    pytest_asyncio = None  # type: ignore[assignment]

MISSING_EXTRA = "chapkit's async fixtures need pytest-asyncio: pip install 'chapkit[testing]'"

if pytest_asyncio is None:  # pragma: no cover

    @pytest.fixture
    def chapkit_service() -> Any:
        """Unavailable: needs the `testing` extra."""
        raise pytest.UsageError(MISSING_EXTRA)

    @pytest.fixture
    def chapkit_client() -> Any:
        """Unavailable: needs the `testing` extra."""
        raise pytest.UsageError(MISSING_EXTRA)

else:

    @pytest_asyncio.fixture
    async def chapkit_service(chapkit_service_options: dict[str, Any]) -> AsyncIterator[ChapkitService]:
        """A started in-memory chapkit service (closed, jobs canceled, after the test)."""
        async with ChapkitService.open(MEMORY_URL, **chapkit_service_options) as service:
            yield service

    @pytest_asyncio.fixture
    async def chapkit_client() -> AsyncIterator[Callable[[FastAPI], Awaitable[Any]]]:
        """A factory of HTTP clients for your app: each call runs its lifespan and returns an httpx client."""
        async with AsyncExitStack() as stack:

            async def client_for(app: FastAPI, base_url: str = "http://testserver") -> Any:
                return await stack.enter_async_context(serve_app(app, base_url))

            yield client_for
