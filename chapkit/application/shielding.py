"""Finish work that must not be cut short by a cancellation (cleanup, file writes), then honour it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

_T = TypeVar("_T")


async def complete_before_cancel(awaitable: Awaitable[_T]) -> _T:
    """Await `awaitable` to its end; a cancellation of the caller meanwhile is raised only afterwards.

    Returns the result (or raises the error) of `awaitable` when no cancellation arrived; raises
    `CancelledError` after it finished when one did, however many arrived.
    """
    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while not task.done():
        try:
            # asyncio.wait never cancels what it waits for.
            await asyncio.wait({task})
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as never retrieved
        raise asyncio.CancelledError
    return task.result()


__all__ = ["complete_before_cancel"]
