"""The engine and one transaction per use case, on SQLite or PostgreSQL.

SQLite allows one writer at a time. Rather than let concurrent transactions read, then fail or
spin on the file lock when they write, every transaction on SQLite starts `BEGIN IMMEDIATE` and
waits its turn on an in-process lock. PostgreSQL transactions run concurrently; services that
must not race lock the rows they depend on (`SELECT ... FOR UPDATE`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db import sqlite_in_loop

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Database:
    """Owns the engine; hands out transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine: AsyncEngine = create_async_engine(
                url, echo=echo, connect_args={"async_creator_fn": sqlite_in_loop.connect}
            )
            _make_sqlite_transactions_immediate(self.engine)
        else:
            self.engine = create_async_engine(
                url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        async with contextlib.AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            session = await stack.enter_async_context(self._sessions())
            await stack.enter_async_context(session.begin())
            yield session

    @contextlib.asynccontextmanager
    async def singleton(self, name: str) -> AsyncIterator[bool]:
        """Run a periodic job in one process at a time: yields whether this process holds the
        job's PostgreSQL advisory lock (SQLite has one process, so always True)."""
        if self.is_sqlite:
            yield True
            return
        key = zlib.crc32(name.encode())
        async with self.engine.connect() as connection:
            held = bool(
                await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            )
            try:
                yield held
            finally:
                if held:
                    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                await connection.commit()

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration (a fresh database gets every table)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade, self.url)

    async def dispose(self) -> None:
        await self.engine.dispose()
        database = make_url(self.url).database
        if self.is_sqlite and database:
            await sqlite_in_loop.close_checkpointer(database)


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _make_sqlite_transactions_immediate(engine: AsyncEngine) -> None:
    """Follow SQLAlchemy's pysqlite recipe: we issue BEGIN ourselves, as BEGIN IMMEDIATE (the
    connection is opened in autocommit mode, see `sqlite_in_loop.connect`)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class DatabaseInUse(Exception):
    """Another bot process already has this SQLite file."""


class SQLiteProcessLock:
    """Keep a second bot process off one SQLite file (PostgreSQL takes several).

    An exclusive `flock` on `<file>.lock`, held for the life of the process; the operating system
    drops it if the process dies, so a crash never leaves it stuck.
    """

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        self.path = Path(f"{database}.lock") if url.startswith("sqlite") and database else None
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        if self.path is None or database_in_memory(self.path):
            return
        handle = self.path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DatabaseInUse(
                f"another cuppa-bot process is already using {str(self.path)[:-5]}: SQLite "
                "allows one bot process at a time (stop the other, or use PostgreSQL to run "
                "several)"
            ) from None
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def database_in_memory(path: Path) -> bool:
    return path.name.startswith(":memory:")
