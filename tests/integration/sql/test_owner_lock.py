"""What each owner lock does on its own (D16): lock files beside an SQLite file, PostgreSQL advisory locks."""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path
from time import monotonic

import pytest
from sqlalchemy import text

from chapkit.adapters.memory import InMemoryDatastore
from chapkit.adapters.sql import FileOwnerLock, PostgresOwnerLock, create_database, owner_lock_for
from chapkit.adapters.sql.owner_lock import advisory_key
from tests.conftest import truncate


def test_each_database_gets_the_lock_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = owner_lock_for(create_database("sqlite:///service.db"))
    assert isinstance(relative, FileOwnerLock)
    assert relative.directory == tmp_path / "service.db.owners"
    assert owner_lock_for(create_database("sqlite+aiosqlite:///:memory:")) is None
    assert owner_lock_for(InMemoryDatastore()) is None
    assert isinstance(owner_lock_for(create_database("postgresql://u@127.0.0.1/db")), PostgresOwnerLock)


async def test_lock_files_name_their_owner_and_go_with_a_clean_release(tmp_path: Path) -> None:
    lock, neighbour = FileOwnerLock.beside(tmp_path / "jobs.db"), FileOwnerLock.beside(tmp_path / "jobs.db")
    owner = "host-1.example:1:ab/c"
    await lock.acquire(owner)
    path = lock.path_of(owner)
    assert path.parent == tmp_path / "jobs.db.owners" and path.name == "host-1.example%3A1%3Aab%2Fc.lock"
    assert path.read_text() == f"{owner}\n"
    os.close(os.open(path, os.O_RDONLY))  # a neighbour peeking at the file does not free the lock
    assert await neighbour.dead_owners() == set()
    await lock.release(owner)
    assert os.listdir(tmp_path / "jobs.db.owners") == []


async def test_a_dead_owners_file_is_reported_by_its_id_and_removed_when_forgotten(tmp_path: Path) -> None:
    lock = FileOwnerLock(tmp_path / "owners")
    lock.directory.mkdir()
    left = lock.path_of("host:7:dead")
    left.write_text("host:7:dead\n")  # what a killed owner leaves: its file, with nobody holding it
    assert await lock.dead_owners() == {"host:7:dead"}
    await lock.forget(["host:7:dead"])
    assert not left.exists()


async def test_a_half_created_lock_file_is_cleared_once_nobody_holds_it(tmp_path: Path) -> None:
    lock = FileOwnerLock(tmp_path / "owners")
    lock.directory.mkdir()
    starting = lock.directory / ".0123456789abcdef.tmp"
    starting.write_text("")
    descriptor = os.open(starting, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)  # an owner between creating and publishing its file
    try:
        assert await lock.dead_owners() == set()
        assert starting.exists()
    finally:
        os.close(descriptor)
    assert await lock.dead_owners() == set()
    assert not starting.exists()


async def test_keep_publishes_a_removed_lock_file_again(tmp_path: Path) -> None:
    lock = FileOwnerLock(tmp_path / "owners")
    await lock.acquire("a")
    lock.path_of("a").unlink()
    await lock.keep("a")
    assert lock.path_of("a").read_text() == "a\n"
    assert await FileOwnerLock(tmp_path / "owners").dead_owners() == set()
    await lock.release("a")
    assert not lock.path_of("a").exists()


async def test_keep_takes_an_advisory_lock_again_after_its_session_ended(postgres_url: str) -> None:
    database = create_database(postgres_url)
    await database.init()
    await truncate(database)
    lock, neighbour = PostgresOwnerLock(database), PostgresOwnerLock(database)
    try:
        await lock.acquire("a")
        async with database.write_transaction() as connection:
            terminated = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objsubid = 1 AND classid = :high AND objid = :low"
                ),
                {"high": (advisory_key("a") & 0xFFFF_FFFF_FFFF_FFFF) >> 32, "low": advisory_key("a") & 0xFFFF_FFFF},
            )
        assert terminated == 1
        deadline = monotonic() + 30
        while await neighbour.dead_owners() != {"a"}:  # the session ends a moment after it was told to
            assert monotonic() < deadline
            await asyncio.sleep(0.02)

        await lock.keep("a")

        assert await neighbour.dead_owners() == set()
        await lock.release("a")
        assert await neighbour.dead_owners() == set()
    finally:
        await lock.release("a")
        await database.dispose()
