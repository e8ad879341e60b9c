"""A connection pool that serves waiting checkouts first come, first served.

SQLAlchemy's async pool keeps idle connections in an `asyncio.Queue`. When a connection comes back,
the queue wakes its first waiter, but before that waiter runs, any request that is already running
may take the connection (`get_nowait`); the waiter then finds the queue empty and queues again at
the back. Under steady load some requests lose that race again and again, and the tail of the
latency grows far past its median (`bench/http_load.py` shows it).

Here a returned connection is handed to the longest-waiting checkout directly, and a checkout
takes an idle connection only when nobody is waiting before it. No request waits longer than the
requests ahead of it take.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_only
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty


class FairAsyncQueue(AsyncAdaptedQueue[Any]):
    """The pool's queue of idle connections, with a first-come, first-served line of waiting checkouts."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        """An empty queue holding at most `maxsize` idle connections."""
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def put_nowait(self, item: Any) -> None:
        """Give a returned connection to the first checkout still waiting, else keep it idle."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Return a connection (the pool never holds more than it made, so this never waits)."""
        self.put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Take an idle connection when nobody waits before us; else wait in line (at most `timeout` s)."""
        if not any(not waiter.done() for waiter in self._waiters):
            try:
                return self._queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        if not block:
            raise Empty()
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return await_only(self._wait(waiter, timeout))

    async def _wait(self, waiter: asyncio.Future[Any], timeout: float | None) -> Any:
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except TimeoutError as error:
            raise Empty() from error
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed a connection, then cancelled: pass it on
                self.put_nowait(waiter.result())
            raise


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    """`AsyncAdaptedQueuePool` whose waiting checkouts are served in arrival order."""

    _queue_class = FairAsyncQueue
    # Logs as the pool it extends: SQLAlchemy's logging settings (quiet unless `echo_pool` or its
    # loggers say otherwise) apply to it, not the root logger's level under chapkit's module name.
    _sqla_logger_namespace = "sqlalchemy.pool.impl.AsyncAdaptedQueuePool"


__all__ = ["FairAsyncQueue", "FairAsyncQueuePool"]
