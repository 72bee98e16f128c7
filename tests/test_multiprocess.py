"""Several bot processes on one PostgreSQL database: each outbox message is sent exactly once.

Two real delivery processes (tests/delivery_process.py: the bot's own dispatcher on the local
Bot API stand-in) share 5,000 due messages; the rows are claimed with FOR UPDATE SKIP LOCKED.
And two whole `cuppa-bot run` processes in webhook mode (tests/fake_telegram.py) share a person's
conversation and the outbox.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from bot.actions import consent_yes
from bot.db.database import Database
from bot.db.models import Base, OutboxMessage, Person
from tests.fake_telegram import START, free_port, posted, start_bot, stop, wait_for, webhook

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 5000
DUE = 300  # for the two whole bots


@pytest.fixture
async def postgres(postgres_url: str):  # type: ignore[no-untyped-def]
    database = Database(postgres_url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with database.transaction() as session:
        await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


async def add_people(db: Database, chats: list[int], now: datetime) -> None:
    async with db.transaction() as session:
        await session.execute(
            insert(Person),
            [{"telegram_id": chat, "first_name": "R", "consented_at": now} for chat in chats],
        )


async def queue(db: Database, chats: list[int], now: datetime, prefix: str) -> None:
    """One message due now to each chat: "<prefix> <chat id>"."""
    async with db.transaction() as session:
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "chat_id": chat,
                    "kind": "broadcast",
                    "text": f"{prefix} {chat}",
                    "not_before": now,
                    "created_at": now,
                }
                for chat in chats
            ],
        )


async def test_two_processes_send_each_message_exactly_once(postgres, postgres_url, tmp_path):
    now = datetime.now(UTC)
    chats = list(range(500_000, 500_000 + MESSAGES))
    await add_people(postgres, chats, now)
    await queue(postgres, chats, now, "hello")
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


def _update(update_id: int, **content: Any) -> dict[str, Any]:
    return {"update_id": update_id, **content}


async def test_two_run_processes_by_webhook_share_people_and_the_outbox(
    postgres, postgres_url, telegram, tmp_path
):
    """Two real `cuppa-bot run` processes, each with its own webhook, on one database: a person
    starts with one and carries on with the other, and messages due go out once each."""
    fake, api_port = telegram
    now = datetime.now(UTC)
    chats = list(range(600_000, 600_000 + DUE))
    await add_people(postgres, chats, now)
    hooks = [free_port(), free_port()]
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    bots = [
        start_bot(
            tmp_path / name,
            api_port,
            CUPPA_DATABASE_URL=postgres_url,
            CUPPA_TELEGRAM_WEBHOOK_URL="https://cuppa.example.org/telegram",
            CUPPA_TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
            CUPPA_TELEGRAM_WEBHOOK_PORT=str(port),
            CUPPA_TELEGRAM_WEBHOOK_SECRET="s3cret",
        )
        for name, port in zip(("first", "second"), hooks, strict=True)
    ]
    try:
        await asyncio.to_thread(wait_for, lambda: fake.methods().count("setWebhook") == 2, 60)
        start = {**START, "update_id": 1}
        await asyncio.to_thread(wait_for, lambda: posted(webhook(hooks[0], start)))
        await asyncio.to_thread(wait_for, lambda: any("Is that OK?" in t for t in fake.texts()))
        agreed = _update(
            2,
            callback_query={
                "id": "q1",
                "from": START["message"]["from"],
                "chat_instance": "555",
                "data": consent_yes(),
                "message": {**START["message"], "message_id": 99, "text": "Is that OK?"},
            },
        )
        await asyncio.to_thread(wait_for, lambda: posted(webhook(hooks[1], agreed)))
        await asyncio.to_thread(
            wait_for, lambda: any("Which library is nearest" in t for t in fake.texts())
        )

        await queue(postgres, chats, now, "news")  # due now: both delivery loops see them
        news = lambda: [t for t in fake.sent_texts() if t.startswith("news ")]  # noqa: E731
        await asyncio.to_thread(wait_for, lambda: len(set(news())) == DUE, 60)
    finally:
        logs = [await asyncio.to_thread(stop, bot) for bot in bots]
    assert Counter(news()) == Counter({f"news {chat}": 1 for chat in chats}), "each sent once"
    assert all("ERROR" not in log for log in logs), logs
    async with postgres.transaction() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == 555))
        statuses = Counter(await session.scalars(select(OutboxMessage.status)))
    assert person is not None, "the consent given through the second process was kept"
    assert statuses == {"sent": DUE}
