"""Owners of job records (D16): ids, heartbeats and locks, dead owners' jobs, and cancels across processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from time import monotonic

from ulid import ULID

from chapkit.adapters.observability import get_logger
from chapkit.domain.job_states import is_terminal
from chapkit.domain.ports.job_store import INTERRUPTED_ERROR, JobRecordStore
from chapkit.domain.ports.owner_lock import OwnerLock

logger = get_logger(__name__)

OWNER_MAX_LENGTH = 128
"""Owner ids fit the SQL store's column."""


def new_owner_id() -> str:
    """Return an owner id for this scheduler: host name, process id and a random token (D16)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"[-OWNER_MAX_LENGTH:]


class OwnerWatch:
    """How one owner proves it is alive and fails the unfinished records of dead owners (D16).

    `start()` takes the owner lock (when the store's database has one), writes a heartbeat, then fails
    the records of owners whose lock is free (their process ended, however long ago: a restart after one
    second sees it at once) and of owners silent for `stale_after` seconds. `beat()`, every heartbeat
    interval, writes the heartbeat, keeps the lock and fails the records of owners silent for
    `stale_after` (owners without a lock, other hosts, processes that died while this one ran), so an
    interrupted job ends at most `stale_after` plus one heartbeat after its process stopped while any
    process of the service runs. Silence is judged only by an owner that has itself been heard from
    without a gap for `stale_after`: after a database outage every live owner gets time to beat again.
    Locks are judged at start-up only: a lock is freed when its connection drops too (a database
    restart), and a running owner takes it again at its next beat.
    """

    def __init__(
        self,
        store: JobRecordStore,
        owner: str,
        *,
        stale_after: float,
        lock: OwnerLock | None = None,
        error: str = INTERRUPTED_ERROR,
        alive: Sequence[str] = (),
        clock: Callable[[], float] = monotonic,
    ) -> None:
        """Watch as `owner`; the pseudo-owners in `alive` are announced alive with it; `clock` counts seconds."""
        self.store = store
        self.owner = owner
        self.stale_after = stale_after
        self.lock = lock
        self.error = error
        self.alive = tuple(alive)
        self.clock = clock
        self._heard_since: float | None = None

    async def start(self, now: datetime) -> None:
        """Take the lock, announce this owner, fail the records of dead and of silent owners."""
        if self.lock is not None:
            await self.lock.acquire(self.owner)
        try:
            await self._announce(now)
            self._heard_since = self.clock()
            if self.lock is not None:
                dead = await self.lock.dead_owners()
                if dead:
                    failed = await self.store.fail_owners(dead, at=now, error=self.error)
                    await self.lock.forget(dead)
                    _report(failed, "their process stopped")
            await self._fail_silent(now)
        except BaseException:
            with contextlib.suppress(Exception):  # the first failure is the one to report
                await self.stop()
            raise

    async def beat(self, now: datetime) -> None:
        """Announce this owner and keep its lock; fail silent owners once this one has been heard long enough."""
        try:
            await self._announce(now)
            if self.lock is not None:
                await self.lock.keep(self.owner)
        except BaseException:
            self._heard_since = None
            raise
        if self._heard_since is None:
            self._heard_since = self.clock()
        elif self.clock() - self._heard_since >= self.stale_after:
            await self._fail_silent(now)

    async def stop(self) -> None:
        """Forget this owner's heartbeat and free its lock (a clean stop; its records stay)."""
        self._heard_since = None
        try:
            await self.store.release(self.owner)
        finally:
            if self.lock is not None:
                await self.lock.release(self.owner)

    async def _announce(self, now: datetime) -> None:
        for name in (self.owner, *self.alive):
            await self.store.heartbeat(name, now)

    async def _fail_silent(self, now: datetime) -> None:
        stale_before = now - timedelta(seconds=self.stale_after)
        failed = await self.store.fail_stale(stale_before=stale_before, at=now, error=self.error)
        _report(failed, "stopped heartbeating")


def _report(failed: int, reason: str) -> None:
    if failed:
        logger.warning("jobs_interrupted", count=failed, reason=reason)


async def honour_cancels(store: JobRecordStore, owner: str, tasks: Mapping[ULID, asyncio.Task[None]]) -> None:
    """Cancel the running jobs of `owner` that other processes asked to cancel."""
    for job_id in await store.cancel_requests(owner):
        task = tasks.get(job_id)
        if task is not None:
            task.cancel()


async def wait_for_others(store: JobRecordStore | None, job_id: ULID, timeout: float | None, poll: float) -> bool:
    """Poll the store until another owner's job is finished or gone; False on timeout."""
    deadline = None if timeout is None else monotonic() + timeout
    while True:
        record = await store.get(job_id) if store is not None else None
        if record is None or is_terminal(record.status):
            return True
        if deadline is not None and monotonic() >= deadline:
            return False
        delay = poll if deadline is None else min(poll, deadline - monotonic())
        await asyncio.sleep(max(delay, 0))


__all__ = ["OWNER_MAX_LENGTH", "OwnerWatch", "honour_cancels", "new_owner_id", "wait_for_others"]
