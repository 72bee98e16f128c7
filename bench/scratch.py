"""Scratch databases for the benchmarks: a fresh, migrated SQLite file or PostgreSQL database."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.db.database import Database


@asynccontextmanager
async def scratch_database(server_url: str | None, label: str = "bench") -> AsyncIterator[str]:
    """A fresh, migrated database: a SQLite file in a temporary folder, or a new PostgreSQL
    database on `server_url`'s server (dropped afterwards)."""
    if server_url is None:
        with tempfile.TemporaryDirectory(prefix=f"cuppa-{label}-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / f'{label}.db'}"
            await migrate(url)
            yield url
        return
    import asyncpg

    admin = asyncpg_dsn(server_url)
    name = f"cuppa_{label}_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        await migrate(url)
        yield url
    finally:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy's URL of a PostgreSQL database as asyncpg itself takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await db.upgrade()
    finally:
        await db.dispose()
