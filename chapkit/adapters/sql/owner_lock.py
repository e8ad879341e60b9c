"""Owner locks of SQL databases (D16): PostgreSQL advisory locks, and lock files beside an SQLite file.

`owner_lock_for(database)` picks the one a database needs: `PostgresOwnerLock` on PostgreSQL,
`FileOwnerLock` beside an SQLite file, none for SQLite `:memory:` (one process only) or other databases
(their owners are told dead by their heartbeats alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import secrets
from collections.abc import Collection
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from chapkit.adapters.observability import get_logger
from chapkit.adapters.sql.database import Database, SqliteDatabase
from chapkit.adapters.sql.schema.base import utc_now
from chapkit.adapters.sql.schema.jobs import job_owner_locks
from chapkit.domain.ports.datastore import Datastore
from chapkit.domain.ports.owner_lock import OwnerLock

logger = get_logger(__name__)

LOCK_SUFFIX = ".lock"
OWNERS_DIRECTORY_SUFFIX = ".owners"

_HELD_ADVISORY_LOCKS = text(
    "SELECT classid, objid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
"""Advisory locks held on this database; a one-bigint key shows as its high (classid) and low (objid) halves."""


def advisory_key(owner: str) -> int:
    """The advisory-lock key of an owner: 64 bits of a keyed hash of its id, signed as PostgreSQL's bigint."""
    digest = hashlib.blake2b(owner.encode(), digest_size=8, person=b"chapkit-owner").digest()
    return int.from_bytes(digest, "big", signed=True)


def _halves(key: int) -> tuple[int, int]:
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


class PostgresOwnerLock(OwnerLock):
    """An advisory lock per owner on a connection of its own, plus a `job_owner_locks` row to find it by.

    The connection is opened for the lock alone (outside the service's pool, in autocommit, so it never
    sits idle in a transaction) and held until `release`; PostgreSQL frees the lock when the session
    ends, which it does as soon as the process's socket closes. A lock lost with a dropped connection is
    taken again by `keep` (each heartbeat). The registration is written only once the lock is held, and
    removed before it is freed, so a neighbour never sees a live owner registered with a free lock.
    """

    def __init__(self, database: Database) -> None:
        """Lock on `database` (its URL opens the lock connections; its pool writes the registrations)."""
        self.database = database
        self._engine: AsyncEngine | None = None
        self._owners: set[str] = set()
        self._held: dict[str, AsyncConnection] = {}

    def _lock_engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = create_async_engine(self.database.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        return self._engine

    async def _take(self, owner: str) -> AsyncConnection:
        connection = await self._lock_engine().connect()
        try:
            taken = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(owner)})
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            raise RuntimeError(f"The owner lock of {owner!r} is held by another session")
        return connection

    async def _register(self, owner: str) -> None:
        async with self.database.write_transaction() as connection:
            await connection.execute(delete(job_owner_locks).where(job_owner_locks.c.owner == owner))
            await connection.execute(
                insert(job_owner_locks).values(owner=owner, lock_key=advisory_key(owner), locked_at=utc_now())
            )

    async def acquire(self, owner: str) -> None:
        """Take the advisory lock on a dedicated connection, then register the owner."""
        if owner in self._owners:
            raise RuntimeError(f"The owner lock of {owner!r} is held already")
        self._held[owner] = await self._take(owner)
        try:
            await self._register(owner)
        except BaseException:
            await self._close(self._held.pop(owner))
            raise
        self._owners.add(owner)

    async def keep(self, owner: str) -> None:
        """Check the lock's connection; after it dropped, take the lock again and register anew."""
        if owner not in self._owners:
            return
        connection = self._held.pop(owner, None)
        if connection is not None:
            try:
                await connection.scalar(text("SELECT 1"))
            except Exception:
                logger.warning("owner_lock_lost", owner=owner, reason="its connection dropped; taking it again")
                await self._close(connection)
            else:
                self._held[owner] = connection
                return
        self._held[owner] = await self._take(owner)
        await self._register(owner)  # a neighbour starting meanwhile may have taken this owner for dead

    async def release(self, owner: str) -> None:
        """Unregister the owner, then free the lock and close its connection."""
        if owner not in self._owners:
            return
        self._owners.discard(owner)
        connection = self._held.pop(owner, None)
        try:
            await self.forget([owner])
        finally:
            if connection is not None:
                with contextlib.suppress(DBAPIError):
                    await connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(owner)})
                await self._close(connection)
            if not self._held and self._engine is not None:
                await self._engine.dispose()
                self._engine = None

    async def dead_owners(self) -> set[str]:
        """Registered owners whose advisory lock no session holds."""
        async with self.database.read_connection() as connection:
            # Registrations first: an owner registered by then holds its lock until it unregisters.
            registered = (await connection.execute(select(job_owner_locks.c.owner, job_owner_locks.c.lock_key))).all()
            if not registered:
                return set()
            held = {(row.classid, row.objid) for row in await connection.execute(_HELD_ADVISORY_LOCKS)}
        return {row.owner for row in registered if _halves(row.lock_key) not in held}

    async def forget(self, owners: Collection[str]) -> None:
        """Delete the owners' registrations."""
        if not owners:
            return
        async with self.database.write_transaction() as connection:
            await connection.execute(delete(job_owner_locks).where(job_owner_locks.c.owner.in_(sorted(owners))))

    @staticmethod
    async def _close(connection: AsyncConnection) -> None:
        with contextlib.suppress(Exception):  # a dropped connection may fail to close cleanly; it is gone either way
            await connection.close()


class FileOwnerLock(OwnerLock):
    """Lock files in a directory beside an SQLite file, `<file>.owners/<owner>.lock`, each `flock`ed by its owner.

    The kernel frees a `flock` when the last descriptor of its open file closes, so when the owner's
    process ends however it ends (descriptors are close-on-exec: model scripts started by the service do not
    inherit them). A file is created under a temporary name, locked, then renamed into place, so a
    neighbour never finds a live owner's file unlocked. A free lock file is a dead owner's; `forget`
    removes it. Locks are per open file, so schedulers in one process lock each other out as processes do.
    Lock files, like the SQLite file itself, need a local file system.
    """

    def __init__(self, directory: Path) -> None:
        """Keep lock files in `directory` (created on the first `acquire`)."""
        self.directory = directory
        self._owners: set[str] = set()
        self._held: dict[str, int] = {}

    @classmethod
    def beside(cls, database_file: Path) -> FileOwnerLock:
        """The lock files of the owners working on `database_file`."""
        return cls(database_file.with_name(database_file.name + OWNERS_DIRECTORY_SUFFIX))

    def path_of(self, owner: str) -> Path:
        """The lock file of `owner`."""
        return self.directory / f"{quote(owner, safe='')}{LOCK_SUFFIX}"

    async def acquire(self, owner: str) -> None:
        """Create, lock and publish the owner's lock file."""
        if owner in self._owners:
            raise RuntimeError(f"The owner lock of {owner!r} is held already")
        self._held[owner] = await asyncio.to_thread(self._take, owner)
        self._owners.add(owner)

    def _take(self, owner: str) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.path_of(owner)
        if final.exists():
            raise RuntimeError(f"The owner lock of {owner!r} exists already")
        temporary = self.directory / f".{secrets.token_hex(8)}.tmp"
        descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(descriptor, f"{owner}\n".encode())
            os.rename(temporary, final)
        except BaseException:
            os.close(descriptor)
            temporary.unlink(missing_ok=True)
            raise
        return descriptor

    async def keep(self, owner: str) -> None:
        """Publish the lock file again if it was removed from under the owner (its lock is still held)."""
        if owner not in self._owners:
            return
        descriptor = self._held.pop(owner, None)
        if descriptor is not None:
            if await asyncio.to_thread(self._published, owner, descriptor):
                self._held[owner] = descriptor
                return
            logger.warning("owner_lock_lost", owner=owner, reason="its lock file was removed; creating it again")
            os.close(descriptor)
        self._held[owner] = await asyncio.to_thread(self._take, owner)

    def _published(self, owner: str, descriptor: int) -> bool:
        try:
            return os.stat(self.path_of(owner)).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            return False

    async def release(self, owner: str) -> None:
        """Remove the lock file, then free the lock."""
        self._owners.discard(owner)
        descriptor = self._held.pop(owner, None)
        if descriptor is None:
            return
        try:
            if await asyncio.to_thread(self._published, owner, descriptor):
                await asyncio.to_thread(self.path_of(owner).unlink, missing_ok=True)
        finally:
            os.close(descriptor)

    async def dead_owners(self) -> set[str]:
        """Owners whose lock file no process holds; leftovers of half-created files are removed."""
        return await asyncio.to_thread(self._scan)

    def _scan(self) -> set[str]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return set()
        dead: set[str] = set()
        for name in names:
            path = self.directory / name
            if name.startswith("."):
                if name.endswith(".tmp") and _is_free(path):
                    path.unlink(missing_ok=True)  # a process died between creating and publishing its lock
            elif name.endswith(LOCK_SUFFIX) and _is_free(path):
                dead.add(unquote(name[: -len(LOCK_SUFFIX)]))
        return dead

    async def forget(self, owners: Collection[str]) -> None:
        """Remove the dead owners' lock files."""
        for owner in owners:
            if owner not in self._owners:
                await asyncio.to_thread(self.path_of(owner).unlink, missing_ok=True)


def _is_free(path: Path) -> bool:
    """Whether no process holds the lock of `path` (False when the file is gone)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)  # closing frees a lock taken here
    return True


def owner_lock_for(database: Datastore) -> OwnerLock | None:
    """The owner lock a database's schedulers hold: advisory locks on PostgreSQL, lock files beside SQLite files."""
    if isinstance(database, SqliteDatabase):
        if database.is_in_memory():
            return None
        file = make_url(database.url).database
        return None if not file else FileOwnerLock.beside(Path(file).resolve())
    if isinstance(database, Database) and database.engine.dialect.name == "postgresql":
        return PostgresOwnerLock(database)
    return None


__all__ = ["FileOwnerLock", "PostgresOwnerLock", "advisory_key", "owner_lock_for"]
