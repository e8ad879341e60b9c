"""The owner-lock port's contract (D16), on the locks of an SQLite file and of PostgreSQL.

Each `OwnerLock` instance stands for one process; locks taken through one are seen from the others as
from another process (lock files are locked per open file, advisory locks per session).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from time import monotonic

import pytest

from chapkit.adapters.sql import Database, create_database, owner_lock_for
from chapkit.domain.ports import OwnerLock
from tests.conftest import truncate

PROJECT_ROOT = Path(__file__).resolve().parents[2]

LockFactory = Callable[[], OwnerLock]


@pytest.fixture(params=["sqlite_file", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}" if request.param == "sqlite_file" else None
    opened = create_database(url or str(request.getfixturevalue("postgres_url")))
    await opened.init()
    await truncate(opened)
    yield opened
    await opened.dispose()


@pytest.fixture
async def new_lock(database: Database) -> AsyncIterator[LockFactory]:
    """Locks of one database, one per simulated process; whatever they still hold is released at the end."""
    made: list[OwnerLock] = []

    def make() -> OwnerLock:
        lock = owner_lock_for(database)
        assert lock is not None
        made.append(lock)
        return lock

    yield make
    for lock in made:
        for owner in ("a", "b", "c"):
            await lock.release(owner)


async def test_a_held_lock_is_alive_to_every_neighbour_and_a_released_one_is_gone(new_lock: LockFactory) -> None:
    mine, neighbour = new_lock(), new_lock()
    assert await neighbour.dead_owners() == set()
    await mine.acquire("a")
    await neighbour.acquire("b")

    assert await neighbour.dead_owners() == set()
    assert await mine.dead_owners() == set()
    await mine.keep("a")
    assert await neighbour.dead_owners() == set()

    await mine.release("a")
    await mine.release("a")  # a second release does nothing
    assert await neighbour.dead_owners() == set()  # released: unregistered, so not reported dead either


async def test_an_owner_is_locked_once(new_lock: LockFactory) -> None:
    mine, neighbour = new_lock(), new_lock()
    await mine.acquire("a")
    with pytest.raises(RuntimeError, match="held already"):
        await mine.acquire("a")
    with pytest.raises(RuntimeError):
        await neighbour.acquire("a")
    assert await neighbour.dead_owners() == set()


async def test_the_lock_of_a_killed_process_is_free_at_once_and_forgotten_on_request(
    new_lock: LockFactory, database: Database
) -> None:
    neighbour = new_lock()
    await neighbour.acquire("b")
    child = subprocess.Popen(  # noqa: ASYNC220 - a plain child we kill -9; its pipe is read in a thread
        [sys.executable, "-c", _HOLDER, database.url, "c"], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    try:
        assert child.stdout is not None
        assert (await asyncio.to_thread(child.stdout.readline)).strip() == "locked"
        assert await neighbour.dead_owners() == set()

        os.kill(child.pid, signal.SIGKILL)
        await asyncio.to_thread(child.wait, 30)

        assert await _dead_owners_once_freed(neighbour) == {"c"}
        assert await new_lock().dead_owners() == {"c"}
        await neighbour.forget(["c", "unknown"])
        assert await neighbour.dead_owners() == set()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


async def _dead_owners_once_freed(lock: OwnerLock) -> set[str]:
    """`dead_owners()` once it reports anyone: PostgreSQL ends a dead client's session a moment after it died."""
    deadline = monotonic() + 30
    while not (dead := await lock.dead_owners()) and monotonic() < deadline:  # noqa: ASYNC110 (no event to await)
        await asyncio.sleep(0.02)
    return dead


_HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from chapkit.adapters.sql import create_database, owner_lock_for

    async def main() -> None:
        database = create_database(sys.argv[1])
        lock = owner_lock_for(database)
        await lock.acquire(sys.argv[2])
        print("locked", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)
