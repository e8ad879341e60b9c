"""How a job's target runs (awaitable, coroutine function or plain callable) and how its failure is described."""

from __future__ import annotations

import asyncio
import inspect
import traceback
from collections.abc import Iterable
from typing import Any

from chapkit.domain.ports.scheduler import JobTarget


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """Return a failed job's `error` (the traceback's last line, e.g. `ValueError: boom`) and its traceback."""
    formatted = "".join(traceback.format_exception(exc))
    lines = formatted.strip().split("\n")
    return (lines[-1] if lines else str(exc)), formatted


class JobFailure:
    """A failed job's exception, kept with the results so `wait` can re-raise it (never returned as a result)."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


async def finish_or_cancel(tasks: Iterable[asyncio.Task[None]], timeout: float | None) -> None:
    """Let unfinished `tasks` run up to `timeout` seconds (None: until done), then cancel the rest and wait."""
    pending = [task for task in tasks if not task.done()]
    if pending and (timeout is None or timeout > 0):
        await asyncio.wait(pending, timeout=timeout)
    pending = [task for task in pending if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)


async def execute_target(target: JobTarget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Await an awaitable, call and await a coroutine function, or run a plain callable in a worker thread."""
    if inspect.isawaitable(target):
        if args or kwargs:
            # Close the coroutine to avoid "coroutine was never awaited" warning
            if inspect.iscoroutine(target):
                target.close()
            raise TypeError("Args/kwargs not supported when target is an awaitable object.")
        return await target
    if inspect.iscoroutinefunction(target):
        return await target(*args, **kwargs)
    return await asyncio.to_thread(target, *args, **kwargs)


__all__ = ["JobFailure", "describe_failure", "execute_target", "finish_or_cancel"]
