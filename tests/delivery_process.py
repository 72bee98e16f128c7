"""The real delivery path in a process of its own, for the `kill -9` test.

    python -m tests.delivery_process DB_URL LOG_FILE [MESSAGES_PER_SECOND]

Builds the services and the Application on the local Bot API stand-in exactly as the bot does,
frees stale claims as the bot does at start-up on SQLite (never on PostgreSQL, where other
processes hold claims), then sweeps the outbox (default 30 messages a second) until nothing is
pending, and exits 0. Every message the stand-in receives
is appended to LOG_FILE as "chat_id<TAB>text" and flushed at once, so a SIGKILL loses no line.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.config import Config, DatabaseConfig
from bot.core import build_services
from bot.db.database import Database
from bot.db.models import OutboxMessage
from bot.telegram.application import build_application, dispatcher_for
from bot.telegram.local_api import LocalBotApi, Shown
from tests.world import count

IDLE_SECONDS = 0.05


def log_to(handle: TextIO):  # type: ignore[no-untyped-def]
    def listener(shown: Shown) -> None:
        handle.write(f"{shown.chat_id}\t{shown.text}\n")
        handle.flush()

    return listener


async def pending(db: Database) -> int:
    return await count(db, OutboxMessage, status="pending")


async def deliver(url: str, log_path: Path, rate: float) -> None:
    config = Config().replace(
        database=DatabaseConfig(url=url),
        delivery=replace(Config().delivery, messages_per_second=rate),
    )
    services = build_services(config)
    api = LocalBotApi()
    application = build_application(services, request=api)
    with log_path.open("a", encoding="utf-8") as handle:
        api.listeners.append(log_to(handle))
        await application.initialize()
        try:
            dispatcher = dispatcher_for(application)
            if services.db.is_sqlite:
                await dispatcher.release_stale_claims()
            while await pending(services.db):
                report = await dispatcher.sweep()
                if report.handled == 0:
                    await asyncio.sleep(IDLE_SECONDS)
        finally:
            await application.shutdown()
            await services.db.dispose()


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(
            "usage: python -m tests.delivery_process DB_URL LOG_FILE [MESSAGES_PER_SECOND]",
            file=sys.stderr,
        )
        return 2
    rate = float(argv[2]) if len(argv) == 3 else Config().delivery.messages_per_second
    asyncio.run(deliver(argv[0], Path(argv[1]), rate))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
