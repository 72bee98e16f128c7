"""APScheduler: only the fixed periodic jobs live in its (in-memory) job store.

Everything with a time of its own (reminders, messages) is a row in our tables that the delivery
loop sends when due, so a restart loses nothing and nothing is pickled.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import Services
from bot.db.database import Database

log = logging.getLogger(__name__)
DIGEST_HOUR = 9
RETENTION_HOUR = 3  # a quiet hour


def guarded(
    name: str, job: Callable[[], Awaitable[int]], db: Database
) -> Callable[[], Awaitable[None]]:
    """Run a job in one process at a time (a PostgreSQL advisory lock), and log what it did
    or why it failed, without letting it take the scheduler down."""

    async def run() -> None:
        try:
            async with db.singleton(name) as mine:
                if not mine:
                    log.debug("scheduled job %s is running in another process", name)
                    return
                done = await job()
        except Exception:
            log.exception("scheduled job %s failed; it will run again at its next time", name)
            return
        if done:
            log.info("scheduled job %s: %d done", name, done)

    return run


def build_scheduler(services: Services) -> AsyncIOScheduler:
    """Weekly sessions and calls made ahead, call matching, the daily follow digest, alerts and
    retention; those marked so also run once at start-up."""
    tz = services.config.tz
    scheduler = AsyncIOScheduler(timezone=tz)
    hourly = {"trigger": "interval", "hours": 1}
    mornings = {"trigger": "cron", "hour": DIGEST_HOUR}
    nights = {"trigger": "cron", "hour": RETENTION_HOUR}
    matching = {
        "trigger": "interval",
        "minutes": services.config.reading_friends.match_every_minutes,
    }
    jobs: list[tuple[str, Callable[[], Awaitable[int]], dict[str, Any], bool]] = [
        # (name, job, when, also at start-up); the job's id is its name with underscores.
        ("weekly sessions", services.admin.extend_series, hourly, True),
        ("follow digest", services.follows.send_digests, mornings, False),
        ("matching", matching_job(services), matching, True),
        ("weekly calls", services.readers.extend_series, hourly, True),
        ("unlogged calls", services.calls.alert_unlogged, hourly, False),
        ("volunteer checks", services.volunteers.warn_expiring_checks, mornings, False),
        ("retention", services.privacy.apply_retention, nights, False),
    ]
    for name, job, when, at_start_up in jobs:
        scheduler.add_job(
            guarded(name, job, services.db),
            id=name.replace(" ", "_"),
            **when,
            **({"next_run_time": datetime.now(tz)} if at_start_up else {}),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    return scheduler


def matching_job(services: Services) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        report = await services.calls.run_matching()
        return report.offered + report.expired + report.alerted

    return run
