"""The fixed periodic jobs: registered once each, and a failing job is logged, not fatal."""

from __future__ import annotations

import logging

import pytest

from bot.db.database import Database
from scheduling.jobs import build_scheduler, guarded


def test_only_the_fixed_periodic_jobs_are_scheduled(services):
    scheduler = build_scheduler(services)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "weekly_sessions",
        "follow_digest",
        "matching",
        "weekly_calls",
        "unlogged_calls",
        "volunteer_checks",
        "retention",
    }
    assert str(jobs["retention"].trigger).startswith("cron[hour='3'")
    assert jobs["matching"].trigger.interval.total_seconds() == 300
    assert str(jobs["follow_digest"].trigger).startswith("cron[hour='9'")
    assert jobs["weekly_sessions"].trigger.interval.total_seconds() == 3600


async def test_a_failing_job_is_logged_and_the_next_run_still_happens(caplog):
    calls = []

    async def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return 3

    job = guarded("flaky", flaky, Database("sqlite+aiosqlite:///:memory:"))
    with caplog.at_level(logging.INFO):
        await job()
        await job()
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1 and "flaky failed" in failures[0].getMessage()
    assert any("flaky: 3 done" in r.getMessage() for r in caplog.records)
    caplog.clear()  # the failure above is the point of this test, not a crash


@pytest.fixture
def services(config, clock):  # type: ignore[no-untyped-def]
    """Services without a database connection: building the scheduler touches none."""
    from bot.core import build_services
    from bot.db.database import Database

    return build_services(config, clock, Database("sqlite+aiosqlite:///:memory:"))


async def test_a_job_runs_in_one_process_at_a_time(db):
    """Two processes' schedulers fire together: the advisory lock lets one of them run it."""
    other = Database(db.url)
    try:
        async with db.singleton("matching") as first, other.singleton("matching") as second:
            assert first
            assert second is db.is_sqlite  # SQLite has one process; PostgreSQL refuses the second
        async with other.singleton("matching") as again:
            assert again, "the lock is released when the job ends"
    finally:
        await other.dispose()
