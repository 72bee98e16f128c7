"""Several bot processes on one PostgreSQL database: each outbox message is sent exactly once.

Two real delivery processes (tests/delivery_process.py: the bot's own dispatcher on the local
Bot API stand-in) share 5,000 due messages; the rows are claimed with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from bot.db.database import Database
from bot.db.models import Base, OutboxMessage, Person

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 5000


@pytest.fixture
async def postgres(postgres_url: str):  # type: ignore[no-untyped-def]
    database = Database(postgres_url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with database.transaction() as session:
        await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


async def test_two_processes_send_each_message_exactly_once(postgres, postgres_url, tmp_path):
    now = datetime.now(UTC)
    chats = list(range(500_000, 500_000 + MESSAGES))
    async with postgres.transaction() as session:
        await session.execute(
            insert(Person),
            [{"telegram_id": chat, "first_name": "R", "consented_at": now} for chat in chats],
        )
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "chat_id": chat,
                    "kind": "broadcast",
                    "text": f"hello {chat}",
                    "not_before": now,
                    "created_at": now,
                }
                for chat in chats
            ],
        )
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.delivery_process",
            postgres_url,
            str(log),
            "2000",
            cwd=ROOT,
        )
        for log in logs
    ]
    for worker in workers:
        assert await asyncio.wait_for(worker.wait(), timeout=300) == 0
    sent = [line for log in logs for line in log.read_text(encoding="utf-8").splitlines()]
    per_process = [len(log.read_text(encoding="utf-8").splitlines()) for log in logs]
    counts = Counter(sent)
    assert len(counts) == MESSAGES, "every message was sent"
    assert max(counts.values()) == 1, "and none twice"
    assert all(share > 0 for share in per_process), f"both processes took part: {per_process}"
    async with postgres.transaction() as session:
        statuses = Counter(await session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent": MESSAGES}
