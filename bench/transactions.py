"""What one database transaction costs at each layer, against the bare driver in the same run.

    python bench/transactions.py                      # SQLite in a temporary folder
    python bench/transactions.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

Nearly every update the bot handles looks the speaker up by Telegram id, and many also note
which question their next typed text answers: one read and one write, each its own short
transaction. Each is timed, one after another (--repeat times, after a warm-up), through:
the bare driver (sqlite3 with BEGIN IMMEDIATE, or an asyncpg connection), SQLAlchemy Core on a
connection from the engine's pool, an ORM `AsyncSession` from `Database.transaction` (the path
the services take) and the service itself (`People.by_telegram`, `People.set_awaiting`).
Printed: microseconds a transaction and the ratio to the bare driver. The load benchmark's
"own work an update" is what these add up to, with the logic and the messages.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, insert, select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.load import services_for  # noqa: E402
from bench.scratch import asyncpg_dsn, scratch_database  # noqa: E402
from bot.db.models import Person  # noqa: E402
from bot.services.people import load_person  # noqa: E402

PEOPLE = 1_000
TELEGRAM_IDS = 500_000_000

_PERSON = select(Person.id, Person.first_name, Person.awaiting).where(
    Person.telegram_id == bindparam("telegram_id")
)
_AWAITING = update(Person).where(Person.id == bindparam("person_id")).values(awaiting="x")
RAW_SELECT = "SELECT id, first_name, awaiting FROM people WHERE telegram_id = {}"
RAW_UPDATE = "UPDATE people SET awaiting = 'x' WHERE id = {}"


Work = Callable[[], Awaitable[None]]


async def timed(work: Work, repeat: int) -> float:
    """Microseconds a call, after a warm-up of a tenth as many."""
    for _ in range(max(1, repeat // 10)):
        await work()
    started = time.perf_counter()
    for _ in range(repeat):
        await work()
    return (time.perf_counter() - started) / repeat * 1e6


async def bare_driver(url: str, telegram_id: int, person_id: int) -> tuple[Work, Work, Work]:
    """The read and the write through the driver alone, and how to close it."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(str(make_url(url).database), isolation_level=None)

        def run(sql: str, value: int) -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(sql.format("?"), (value,)).fetchall()
            connection.execute("COMMIT")

        async def read() -> None:
            run(RAW_SELECT, telegram_id)

        async def write() -> None:
            run(RAW_UPDATE, person_id)

        async def close() -> None:
            connection.close()

        return read, write, close
    import asyncpg

    pg = await asyncpg.connect(asyncpg_dsn(url))

    async def pg_read() -> None:
        async with pg.transaction():
            await pg.fetchrow(RAW_SELECT.format("$1"), telegram_id)

    async def pg_write() -> None:
        async with pg.transaction():
            await pg.execute(RAW_UPDATE.format("$1"), person_id)

    return pg_read, pg_write, pg.close


async def main(args: argparse.Namespace) -> int:
    async with scratch_database(args.database_url, "transactions") as url:
        services = services_for(url)
        db, people = services.db, services.people
        now = datetime.now(UTC)
        async with db.transaction() as session:
            await session.execute(
                insert(Person),
                [
                    {
                        "telegram_id": TELEGRAM_IDS + n,
                        "key": f"{n:032x}",
                        "first_name": f"Resident{n}",
                        "consented_at": now,
                        "created_at": now,
                    }
                    for n in range(PEOPLE)
                ],
            )
        telegram_id = TELEGRAM_IDS + PEOPLE // 2
        person = await people.by_telegram(telegram_id)
        assert person is not None
        ids = {"telegram_id": telegram_id, "person_id": person.id}

        async def core_read() -> None:
            async with db.engine.begin() as connection:
                (await connection.execute(_PERSON, ids)).first()

        async def core_write() -> None:
            async with db.engine.begin() as connection:
                await connection.execute(_AWAITING, ids)

        async def orm_read() -> None:
            async with db.transaction() as session:
                await load_person(session, telegram_id)

        async def orm_write() -> None:
            async with db.transaction() as session:
                await session.execute(_AWAITING, ids)

        async def service_read() -> None:
            await people.by_telegram(telegram_id)

        async def service_write() -> None:
            await people.set_awaiting(person.id, "x")

        bare_read, bare_write, close = await bare_driver(url, telegram_id, person.id)
        layers = [
            ("bare driver", bare_read, bare_write),
            ("SQLAlchemy Core, pooled connection", core_read, core_write),
            ("ORM AsyncSession (Database.transaction)", orm_read, orm_write),
            ("the People service", service_read, service_write),
        ]
        results = []
        for name, read, write in layers:
            results.append((name, await timed(read, args.repeat), await timed(write, args.repeat)))
        await close()
        await db.dispose()

    backend = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(f"one transaction, by layer, on {backend} ({args.repeat:,} of each, one at a time):")
    print(f"    {'layer':<42} {'read µs':>8} {'× bare':>7} {'write µs':>9} {'× bare':>7}")
    _, bare_read_us, bare_write_us = results[0]
    for name, read_us, write_us in results:
        print(
            f"    {name:<42} {read_us:8.0f} {read_us / bare_read_us:7.1f}"
            f" {write_us:9.0f} {write_us / bare_write_us:7.1f}"
        )
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+asyncpg://...)")
    parser.add_argument("--repeat", type=int, default=3_000, help="transactions of each kind")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
