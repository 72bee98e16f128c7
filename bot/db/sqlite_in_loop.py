"""SQLite on the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

aiosqlite runs each connection in a thread of its own and hands every call across: a cursor,
an execute, a fetch, a commit are each a queue put, a thread wake-up and a wake-up of the event
loop. A SQLite statement on an indexed table takes a few microseconds; on this project's
machine one small query through SQLAlchemy took about 700 µs with aiosqlite and 190 µs here,
and under load each hand-over also waited for the GIL (the bot's own thread being busy), so
the one-writer-at-a-time lock was held for milliseconds. Here the calls run directly.

What makes that safe: the bot is one process per SQLite file (`SQLiteProcessLock`); writers
take turns on an asyncio lock and start `BEGIN IMMEDIATE` in WAL mode, so inside the process
nothing ever waits on SQLite's file lock. Another program may still hold it for a moment (a
`cuppa-bot import-sessions` run, the sqlite3 shell): then the statement fails at once with
"database is locked" (busy timeout 0) and is retried after an `asyncio.sleep`, which lets the
bot go on serving others, for up to `BUSY_WAIT` seconds in all, as SQLite's own busy timeout
would have waited. A statement that failed as busy had no effect, so retrying it is safe.

One thing is still kept off the event loop's thread: the checkpoint, which copies the
write-ahead log back into the database file and waits for the disk (15 ms and more here).
SQLite would run it inside whichever commit filled the log, holding up every reply meanwhile;
instead the bot's connections leave it (`wal_autocheckpoint=0`) to a thread of its own, started
at most once a second after a commit (PASSIVE: it never waits for, or blocks, readers or
writers).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

BUSY_WAIT = 30.0  # seconds, in all, before "database is locked" is given up on
CHECKPOINT_EVERY = 1.0  # seconds, at most
FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.05


async def connect(database: str, **kwargs: Any) -> InLoopConnection:
    """What SQLAlchemy's aiosqlite dialect calls (`async_creator_fn`) to open a connection."""
    return _open(database, kwargs)


def _open(database: str, kwargs: dict[str, Any]) -> InLoopConnection:
    # Busy waits are ours, asynchronous (see above); the connection is used only on the event
    # loop's thread, but the pool may close it from another (at interpreter exit).
    kwargs.update(timeout=0, isolation_level=None, check_same_thread=False)
    connection = sqlite3.connect(database, **kwargs)
    if not _on_disk(database):
        return InLoopConnection(connection, None)
    connection.execute("PRAGMA wal_autocheckpoint=0")
    return InLoopConnection(connection, os.path.abspath(database))


_checkpointers: dict[str, Checkpointer] = {}


def _on_disk(database: str) -> bool:
    return database != ":memory:" and not database.startswith("file:")


def checkpointer(path: str) -> Checkpointer:
    """The checkpointer of this database file (absolute path), shared by every connection to
    it; a new one if the last was closed (another engine on the file was disposed of)."""
    found = _checkpointers.get(path)
    if found is None:
        found = _checkpointers[path] = Checkpointer(path)
    return found


def _forget_checkpointer(database: str) -> Checkpointer | None:
    return _checkpointers.pop(os.path.abspath(database), None) if _on_disk(database) else None


async def close_checkpointer(database: str) -> None:
    """Finish and stop the file's checkpointer (when the engine is disposed of)."""
    found = _forget_checkpointer(database)
    if found is not None:
        await found.close()


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` in a thread of its own, with its own connection."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
        self._connection: sqlite3.Connection | None = None  # only ever used in that thread
        self._running: Future[None] | None = None
        self._started_at = -math.inf

    def after_commit(self) -> None:
        now = time.monotonic()
        if now - self._started_at < CHECKPOINT_EVERY:
            return
        if self._running is not None and not self._running.done():
            return
        self._started_at = now
        self._running = self._executor.submit(self._run)

    def _run(self) -> None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(self._database, timeout=0)
            self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:
            # Routine, not news: busy while another connection closes or another program
            # writes; the next commit's checkpoint (or the last connection's close) catches up.
            log.debug("SQLite checkpoint skipped: %s", error)

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        """A last checkpoint, then the thread stops (waited for in another thread, as the
        checkpoint waits for the disk)."""
        self._executor.submit(self._run)
        self._executor.submit(self._close_connection)
        await asyncio.to_thread(self._executor.shutdown, wait=True)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


async def _patiently(call: Callable[[], Any]) -> Any:
    """Run a SQLite call; while another program holds the file lock, wait without blocking."""
    deadline = time.monotonic() + BUSY_WAIT
    pause = FIRST_PAUSE
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE)


class InLoopCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy uses."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InLoopCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InLoopCursor:
        await _patiently(lambda: self._cursor.execute(sql, parameters or ()))
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> InLoopCursor:
        rows = list(rows)  # a retry must see them all again
        await _patiently(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InLoopConnection:
    """The part of aiosqlite's Connection that SQLAlchemy uses. `_connection` is the open
    sqlite3 connection, or None once closed, as in aiosqlite (the dialect looks at it)."""

    def __init__(self, connection: sqlite3.Connection, path: str | None) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._path = path  # the file, for its checkpoints (None: in memory)

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    def cursor(self) -> InLoopCursor:
        return InLoopCursor(self._open().cursor())

    async def commit(self) -> None:
        await _patiently(self._open().commit)
        if self._path is not None:
            checkpointer(self._path).after_commit()

    async def rollback(self) -> None:
        self._open().rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Terminate (SQLAlchemy's force-close after an error): closing is immediate here."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._open().create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level
