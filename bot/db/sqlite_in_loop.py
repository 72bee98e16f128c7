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
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

BUSY_WAIT = 30.0  # seconds, in all, before "database is locked" is given up on
FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.05


async def connect(database: str, **kwargs: Any) -> InLoopConnection:
    """What SQLAlchemy's aiosqlite dialect calls (`async_creator_fn`) to open a connection."""
    # Busy waits are ours, asynchronous (see above); the connection is used only on the event
    # loop's thread, but the pool may close it from another (at interpreter exit).
    kwargs.update(timeout=0, isolation_level=None, check_same_thread=False)
    connection = sqlite3.connect(database, **kwargs)
    return InLoopConnection(connection)


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

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    def cursor(self) -> InLoopCursor:
        return InLoopCursor(self._open().cursor())

    async def commit(self) -> None:
        await _patiently(self._open().commit)

    async def rollback(self) -> None:
        self._open().rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

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
