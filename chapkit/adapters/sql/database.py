"""`Database` (any SQLAlchemy async URL), `SqliteDatabase` and `SqliteDatabaseBuilder`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Self

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from chapkit.adapters.sql.migrations.runner import create_tables, upgrade_to_head
from chapkit.adapters.sql.pool import FairAsyncQueuePool
from chapkit.adapters.sql.schema.entities import map_entities
from chapkit.adapters.sql.sqlite_driver import OneHopConnection, one_hop_dbapi
from chapkit.adapters.sql.unit_of_work import SqlUnitOfWork
from chapkit.adapters.sql.write_queue import TURN_KEY, WRITE_INTENT_KEY, QueuedWriteSession, WriteTurn
from chapkit.domain.extras import MissingExtraError
from chapkit.domain.ports.datastore import Datastore

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WAL_ATTEMPTS = 50
"""How long a SQLite writer waits for another writer's lock before failing."""


class Database(Datastore):
    """Generic async SQLAlchemy database connection manager (PostgreSQL through `postgresql+asyncpg://`)."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        alembic_dir: Path | None = None,
        auto_migrate: bool = True,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_recycle: int = 3600,
        pool_pre_ping: bool = True,
    ) -> None:
        """Initialize database with connection URL and pool configuration (no connection is opened yet)."""
        map_entities()  # the SQL adapter starts: chapkit's entities become mapped classes (D3)
        self.url = url
        self.alembic_dir = alembic_dir
        self.auto_migrate = auto_migrate
        self.engine: AsyncEngine = async_engine(
            url,
            **self._engine_options(
                echo=echo,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_recycle=pool_recycle,
                pool_pre_ping=pool_pre_ping,
            ),
        )
        self._session_factory: async_sessionmaker[AsyncSession] = async_sessionmaker(
            bind=self.engine, class_=AsyncSession, expire_on_commit=False
        )

    def _engine_options(self, *, echo: bool, **pool: Any) -> dict[str, Any]:
        # Waiting checkouts are served in arrival order (see `pool`): SQLAlchemy's own queue lets
        # running requests overtake waiting ones, which gave reads second-long tails under load.
        return {"echo": echo, "poolclass": FairAsyncQueuePool, **pool}

    async def init(self) -> None:
        """Create or upgrade the schema: bundled Alembic migrations (or `alembic_dir`), else `create_all`."""
        if not self.auto_migrate:
            await create_tables(self.engine)
        else:
            await upgrade_to_head(self.engine, self.url, self.alembic_dir)

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """Create a database session context manager; uncommitted work is rolled back on exit.

        `write=True` declares that the session will write: on an SQLite file it then takes the write
        turn before its first statement, so what it reads stays true until it commits (see
        `write_queue`). Elsewhere it changes nothing.
        """
        async with self._session_factory() as s:
            yield s

    def unit_of_work(self, *, write: bool = False) -> SqlUnitOfWork:
        """Return a new unit of work on a session of this database (D21)."""
        return SqlUnitOfWork(self, write=write)

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction on the engine, outside any session (job records, maintenance)."""
        async with self.engine.begin() as connection:
            yield connection

    def read_connection(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads outside any session (job records, health)."""
        return self.engine.connect()

    async def ping(self) -> None:
        """Run a trivial query; raises when the database cannot be reached."""
        async with self.read_connection() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Dispose of database engine and connection pool."""
        await self.engine.dispose()


class SqliteDatabase(Database):
    """SQLite-specific database: WAL for files, foreign keys on, a busy timeout; `:memory:` is one shared database."""

    @staticmethod
    def _is_in_memory_url(url: str) -> bool:
        """Check if URL represents an in-memory database."""
        return ":memory:" in url or url.rstrip("/").endswith(":")

    def is_in_memory(self) -> bool:
        """Check if this is an in-memory database."""
        return self._is_in_memory_url(self.url)

    def _driver_options(self) -> dict[str, Any]:
        """Aiosqlite in one worker-thread round trip per statement (see `sqlite_driver`)."""
        return {"module": one_hop_dbapi()} if self.url.startswith("sqlite+aiosqlite") else {}

    def _engine_options(self, *, echo: bool, **pool: Any) -> dict[str, Any]:
        if self._is_in_memory_url(self.url):
            # One connection for every session, or each session would see its own empty database.
            return {
                "echo": echo,
                "poolclass": StaticPool,
                "connect_args": {"check_same_thread": False},
                **self._driver_options(),
            }
        # Each aiosqlite connection is a thread. A fixed pool: overflow connections would be threads opened
        # and closed per checkout under load, and more threads only add GIL contention (compare both with
        # bench/http_load.py).
        # A local file's connection cannot go stale, and SQLAlchemy's Connection already rolls back what
        # it leaves open: pre-ping and reset-on-return would each add a worker-thread round trip per checkout.
        return {
            **pool,
            "echo": echo,
            "poolclass": FairAsyncQueuePool,
            "max_overflow": 0,
            "pool_pre_ping": False,
            "pool_reset_on_return": None,
            **self._driver_options(),
        }

    def __init__(self, url: str, **options: Any) -> None:
        """Initialize SQLite database with connection URL and pool configuration."""
        super().__init__(url, **options)
        event.listen(self.engine.sync_engine, "connect", _configure_sqlite_connection)
        if self.is_in_memory():
            # One shared connection (D9): writers take turns on the lock alone, so that they never
            # interleave there (one writer's rollback would undo another's uncommitted statements).
            self._turn = WriteTurn(None, SQLITE_BUSY_TIMEOUT_MS / 1000)
        else:
            # Writers of this process take turns on one connection of their own (see write_queue).
            writer = async_engine(url, echo=self.engine.echo, pool_size=1, max_overflow=0, **self._driver_options())
            event.listen(writer.sync_engine, "connect", _configure_writer_connection)
            event.listen(writer.sync_engine, "begin", _begin_immediate)
            self._turn = WriteTurn(writer, SQLITE_BUSY_TIMEOUT_MS / 1000)
        self._session_factory = async_sessionmaker(
            bind=self.engine, class_=QueuedWriteSession, expire_on_commit=False, info={TURN_KEY: self._turn}
        )

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose writes take the write turn; `write=True` takes it before the first statement."""
        session = self._session_factory(info={WRITE_INTENT_KEY: True}) if write else self._session_factory()
        async with session as s:
            yield s

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction holding the write lock from its start, in this process's write turn."""
        async with self._turn.held() as writer:
            if writer is not None:
                async with writer.begin():
                    yield writer
                return
            async with self.engine.begin() as connection:
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
                yield connection

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; in memory it takes the turn, as the one connection is everybody's (D9)."""
        if not self._turn.shared_connection:
            async with self.engine.connect() as connection:
                yield connection
            return
        async with self._turn.held(), self.engine.connect() as connection:
            yield connection

    async def dispose(self) -> None:
        """Close the writer's engine, then the pool."""
        if self._turn.engine is not None:
            await self._turn.engine.dispose()
        await super().dispose()

    async def init(self) -> None:
        """Switch files to WAL, then create or upgrade the schema."""
        if not self.is_in_memory():
            await self._enable_wal()
        await super().init()

    async def _enable_wal(self) -> None:
        """Set WAL mode, retrying while another process holds the lock (SQLite does not wait for it here)."""
        for attempt in range(_WAL_ATTEMPTS):
            try:
                async with self.engine.connect() as connection:
                    mode = (await connection.exec_driver_sql("PRAGMA journal_mode=WAL")).scalar()
                if str(mode).lower() == "wal":
                    return
            except OperationalError:
                if attempt == _WAL_ATTEMPTS - 1:
                    raise
            await asyncio.sleep(0.02 * (attempt + 1))
        raise RuntimeError(f"SQLite refused WAL mode for {self.url}")


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings: enforce foreign keys, wait for locks, sync less under WAL."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _configure_writer_connection(dbapi_connection: Any, record: Any) -> None:
    """The writer connection: the usual settings, and the driver's own BEGIN off (`_begin_immediate` begins)."""
    _configure_sqlite_connection(dbapi_connection, record)
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    """Begin every writer transaction with SQLite's write lock, so its reads stay true until it commits.

    chapkit's aiosqlite driver sends it with the transaction's first statement (one worker-thread
    round trip for both); other drivers get it as a statement of its own.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, OneHopConnection):
        dbapi_connection.begin_with_next_statement("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class SqliteDatabaseBuilder:
    """Builder for SQLite database configuration with fluent API."""

    def __init__(self) -> None:
        """Initialize builder with default values."""
        self._url: str = ""
        self._echo: bool = False
        self._alembic_dir: Path | None = None
        self._auto_migrate: bool = True
        self._pool_size: int = 5
        self._max_overflow: int = 10
        self._pool_recycle: int = 3600
        self._pool_pre_ping: bool = True

    @classmethod
    def in_memory(cls) -> Self:
        """Create an in-memory SQLite database configuration."""
        builder = cls()
        builder._url = "sqlite+aiosqlite:///:memory:"
        return builder

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Create a file-based SQLite database configuration."""
        builder = cls()
        builder._url = f"sqlite+aiosqlite:///{path}"
        return builder

    def with_echo(self, enabled: bool = True) -> Self:
        """Enable SQL query logging."""
        self._echo = enabled
        return self

    def with_migrations(self, enabled: bool = True, alembic_dir: Path | None = None) -> Self:
        """Configure migration behavior."""
        self._auto_migrate = enabled
        self._alembic_dir = alembic_dir
        return self

    def with_pool(self, size: int = 5, max_overflow: int = 10, recycle: int = 3600, pre_ping: bool = True) -> Self:
        """Configure connection pool settings."""
        self._pool_size = size
        self._max_overflow = max_overflow
        self._pool_recycle = recycle
        self._pool_pre_ping = pre_ping
        return self

    def build(self) -> SqliteDatabase:
        """Build and return configured SqliteDatabase instance."""
        if not self._url:
            raise ValueError("Database URL not configured. Use .in_memory() or .from_file()")
        return SqliteDatabase(
            url=self._url,
            echo=self._echo,
            alembic_dir=self._alembic_dir,
            auto_migrate=self._auto_migrate,
            pool_size=self._pool_size,
            max_overflow=self._max_overflow,
            pool_recycle=self._pool_recycle,
            pool_pre_ping=self._pool_pre_ping,
        )


def async_url(url: str) -> str:
    """Give a plain `sqlite://` or `postgresql://` URL its async driver (aiosqlite, asyncpg)."""
    for plain, driver in (("sqlite://", "sqlite+aiosqlite://"), ("postgresql://", "postgresql+asyncpg://")):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url[len("postgres://") :]
    return url


DRIVER_EXTRAS = {"asyncpg": "postgres"}
"""The async drivers that come with an extra (aiosqlite comes with chapkit itself)."""


def async_engine(url: str, **options: Any) -> AsyncEngine:
    """`create_async_engine(url)`; a driver that is not installed raises `MissingExtraError` naming its extra."""
    try:
        return create_async_engine(url, **options)
    except ImportError as exc:
        extra = DRIVER_EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        driver = url.partition("://")[0]
        raise MissingExtraError(f"The {exc.name} driver ({driver}://)", extra, missing=exc.name) from exc


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names (None for in-memory SQLite and other databases)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None  # an SQLite URI: its own options say where (and whether) it lives
    return Path(parsed.database)


def create_database(url: str, **options: Any) -> Database:
    """Return a `SqliteDatabase` for SQLite URLs and a `Database` for any other SQLAlchemy URL."""
    url = async_url(url)
    if url.startswith("sqlite"):
        return SqliteDatabase(url, **options)
    return Database(url, **options)


__all__ = [
    "DRIVER_EXTRAS",
    "Database",
    "SqliteDatabase",
    "SqliteDatabaseBuilder",
    "async_engine",
    "async_url",
    "create_database",
    "sqlite_file",
]
