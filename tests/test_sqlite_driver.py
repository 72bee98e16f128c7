"""SQLite on the event loop's thread: no helper threads, and another program's lock on the file
is waited for without stalling the bot."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.db import sqlite_in_loop
from bot.db.database import Database
from bot.db.models import Library
from tests.loop_ticks import loop_ticks


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    path = tmp_path / "cuppa.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    yield db, path
    await db.dispose()


async def add_library(db: Database, name: str) -> None:
    async with db.transaction() as session:
        session.add(
            Library(
                name=name,
                town="Diss",
                area="South",
                address="Mere Street",
                postcode="IP22 4AD",
                latitude=52.37,
                longitude=1.11,
                phone="01379 643 081",
            )
        )


async def libraries(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Library)) or 0)


async def test_statements_run_on_the_event_loops_thread(sqlite_db):
    db, _ = sqlite_db
    async with db.transaction() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        await raw.driver_connection.create_function("thread", 0, threading.get_ident)
        assert await session.scalar(text("SELECT thread()")) == threading.get_ident()


async def test_checkpoints_run_in_a_thread_of_their_own_after_commits(sqlite_db, monkeypatch):
    """The checkpoint waits for the disk, so it is kept off the event loop's thread; the bot's
    own connections never run one (wal_autocheckpoint=0)."""
    db, _ = sqlite_db
    monkeypatch.setattr(sqlite_in_loop, "CHECKPOINT_EVERY", 0.0)
    threads: list[int] = []
    real_run = sqlite_in_loop.Checkpointer._run

    def run(self: sqlite_in_loop.Checkpointer) -> None:
        threads.append(threading.get_ident())
        real_run(self)

    monkeypatch.setattr(sqlite_in_loop.Checkpointer, "_run", run)
    for n in range(3):
        await add_library(db, f"Library {n}")
    await asyncio.sleep(0.1)
    assert threads and threading.get_ident() not in threads
    async with db.transaction() as session:
        assert await session.scalar(text("PRAGMA wal_autocheckpoint")) == 0


async def test_another_programs_lock_is_waited_for_while_the_bot_goes_on(sqlite_db):
    db, path = sqlite_db
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. the sqlite3 shell in the middle of a change
    async with loop_ticks(every=0.005) as ticks:
        writer = asyncio.create_task(add_library(db, "Diss Library"))
        await asyncio.sleep(0.2)
    assert not writer.done(), "the write waits for the other program"
    assert ticks.count >= 10, "and the event loop is not blocked meanwhile"
    other.execute("COMMIT")
    await asyncio.wait_for(writer, timeout=5)
    assert await libraries(db) == 1
    other.close()


async def test_a_lock_held_too_long_fails_the_write_and_changes_nothing(sqlite_db, monkeypatch):
    db, path = sqlite_db
    monkeypatch.setattr(sqlite_in_loop, "BUSY_WAIT", 0.1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(Exception, match="database is locked"):
        await add_library(db, "Diss Library")
    other.execute("ROLLBACK")
    other.close()
    assert await libraries(db) == 0
    async with db.transaction() as session:  # and the pool's connections still work
        assert await session.scalar(text("SELECT 1")) == 1


async def test_a_second_engine_on_the_file_outlives_the_first(sqlite_db, monkeypatch):
    """Closing one engine stops the file's checkpointer; another engine's commits start a new
    one rather than failing (a CLI command's engine, then the bot's, in one process)."""
    db, path = sqlite_db
    monkeypatch.setattr(sqlite_in_loop, "CHECKPOINT_EVERY", 0.0)
    first = Database(f"sqlite+aiosqlite:///{path}")
    await add_library(first, "Diss Library")
    await add_library(db, "Dereham Library")
    await first.dispose()
    await add_library(db, "Thetford Library")
    assert await libraries(db) == 3
    assert str(path) in sqlite_in_loop._checkpointers, "checkpoints carry on for the other"
