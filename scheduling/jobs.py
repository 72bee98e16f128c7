"""APScheduler: only the fixed periodic jobs live in its (in-memory) job store.

Everything with a time of its own (reminders, messages) is a row in our tables that the delivery
loop sends when due, so a restart loses nothing and nothing is pickled.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

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
    """Weekly sessions made ahead (at start-up, then hourly) and the daily follow digest."""
    tz = services.config.tz
    scheduler = AsyncIOScheduler(timezone=tz)
    options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    scheduler.add_job(
        guarded("weekly sessions", services.admin.extend_series, services.db),
        "interval",
        hours=1,
        id="weekly_sessions",
        next_run_time=datetime.now(tz),
        **options,
    )
    scheduler.add_job(
        guarded("follow digest", services.follows.send_digests, services.db),
        "cron",
        hour=DIGEST_HOUR,
        id="follow_digest",
        **options,
    )
    scheduler.add_job(
        guarded("matching", matching_job(services), services.db),
        "interval",
        minutes=services.config.reading_friends.match_every_minutes,
        id="matching",
        next_run_time=datetime.now(tz),
        **options,
    )
    scheduler.add_job(
        guarded("weekly calls", services.readers.extend_series, services.db),
        "interval",
        hours=1,
        id="weekly_calls",
        next_run_time=datetime.now(tz),
        **options,
    )
    scheduler.add_job(
        guarded("unlogged calls", services.calls.alert_unlogged, services.db),
        "interval",
        hours=1,
        id="unlogged_calls",
        **options,
    )
    scheduler.add_job(
        guarded("volunteer checks", services.volunteers.warn_expiring_checks, services.db),
        "cron",
        hour=DIGEST_HOUR,
        id="volunteer_checks",
        **options,
    )
    scheduler.add_job(
        guarded("retention", services.privacy.apply_retention, services.db),
        "cron",
        hour=RETENTION_HOUR,
        id="retention",
        **options,
    )
    return scheduler


def matching_job(services: Services) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        report = await services.calls.run_matching()
        return report.offered + report.expired + report.alerted

    return run
