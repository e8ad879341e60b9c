"""Owners of job records (D16): ids, heartbeats, dead owners' jobs, and cancels across processes."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from time import monotonic

from ulid import ULID

from chapkit.adapters.observability import get_logger
from chapkit.domain.job_states import is_terminal
from chapkit.domain.ports.job_store import INTERRUPTED_ERROR, JobRecordStore

logger = get_logger(__name__)

OWNER_MAX_LENGTH = 128
"""Owner ids fit the SQL store's column."""


def new_owner_id() -> str:
    """Return an owner id for this scheduler: host name, process id and a random token (D16)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"[-OWNER_MAX_LENGTH:]


async def claim_ownership(
    store: JobRecordStore,
    owner: str,
    *,
    now: datetime,
    stale_after: float,
    error: str = INTERRUPTED_ERROR,
    alive: Sequence[str] = (),
) -> None:
    """Announce `owner` (and the pseudo-owners in `alive`) alive, then fail the jobs of silent owners.

    Owners silent for `stale_after` seconds have their unfinished records failed with `error`.
    """
    for name in (owner, *alive):
        await store.heartbeat(name, now)
    failed = await store.fail_stale(stale_before=now - timedelta(seconds=stale_after), at=now, error=error)
    if failed:
        logger.warning("jobs_interrupted", count=failed, reason="their process stopped heartbeating")


async def honour_cancels(store: JobRecordStore, owner: str, tasks: Mapping[ULID, asyncio.Task[None]]) -> None:
    """Cancel the running jobs of `owner` that other processes asked to cancel."""
    for job_id in await store.cancel_requests(owner):
        task = tasks.get(job_id)
        if task is not None:
            task.cancel()


async def beat(store: JobRecordStore, owner: str, *, now: datetime, tasks: Mapping[ULID, asyncio.Task[None]]) -> None:
    """Write `owner`'s heartbeat and cancel the running jobs other processes asked to cancel."""
    await store.heartbeat(owner, now)
    await honour_cancels(store, owner, tasks)


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


__all__ = ["OWNER_MAX_LENGTH", "beat", "claim_ownership", "honour_cancels", "new_owner_id", "wait_for_others"]
