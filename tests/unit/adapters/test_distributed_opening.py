"""A worker stopped while its procrastinate pool connects stops, even when the pool swallows the cancellation."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from chapkit.adapters.scheduler.distributed import _opened


class SwallowingApp:
    """An app whose opening catches a cancellation, as psycopg's pool does while it connects."""

    def __init__(self) -> None:
        self.opening = asyncio.Event()
        self.closed = False

    async def open_async(self) -> None:
        self.opening.set()
        with contextlib.suppress(asyncio.CancelledError):  # swallowed: the opening just returns
            await asyncio.Event().wait()

    async def close_async(self) -> None:
        self.closed = True


async def test_a_cancellation_swallowed_by_the_opening_still_stops_the_block() -> None:
    app = SwallowingApp()
    reached = False

    async def worker() -> None:
        nonlocal reached
        async with _opened(app):
            reached = True  # the worker would start here and run until killed

    task = asyncio.create_task(worker())
    await app.opening.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not reached
    assert app.closed
