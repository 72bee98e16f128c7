"""Fixtures: a migrated database on SQLite and on PostgreSQL, a clock the test controls, and
the real Application wired to the local Bot API stand-in.

PostgreSQL comes from CUPPA_TEST_POSTGRES_URL (default: the local server on 127.0.0.1:5432).
If it cannot be reached the PostgreSQL runs are skipped with the reason, except under CI
(CI=true), where that is a failure: CI must run both.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from bot.config import Config, DatabaseConfig, ReadingFriendsConfig, StaffConfig, load_config
from bot.core import Services, build_services
from bot.db.database import Database
from bot.db.models import Base
from bot.telegram.application import build_application, dispatcher_for
from bot.telegram.local_api import LocalBotApi
from bot.telegram.local_chat import LocalUser
from tests.fake_telegram import telegram  # noqa: F401  (the fixture, for every test module)
from tests.world import World, build_world

POSTGRES_URL = os.environ.get(
    "CUPPA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
STAFF_ID = 9001
PHONE_KEY = "m0dGbDQ3UVNzdlZjRXF2a0tJc2ZqTmJ6RlZ5dVJvRk4="  # a test-only Fernet key
# A Tuesday morning in November (GMT), so "this week" and "next week" are well defined.
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class FakeClock:
    """Wall-clock UTC time and monotonic seconds that only move when the test says."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self.seconds = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds

    async def sleep(self, seconds: float) -> None:
        """Let other tasks run (as a real sleep would), then move time on."""
        await asyncio.sleep(0)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.seconds += seconds


def _postgres_admin_dsn() -> str:
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _create_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(_postgres_admin_dsn(), timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(_postgres_admin_dsn(), timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await db.upgrade()
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating every time would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped afterwards."""
    name = f"cuppa_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_create_postgres_database(name))
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_drop_postgres_database(name))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "cuppa.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    return str(request.getfixturevalue("postgres_url"))


async def emptied(database: Database) -> Database:
    """The database with every table empty (the PostgreSQL one is shared by the whole run; each
    SQLite test has a fresh copy already)."""
    if not database.is_sqlite:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        async with database.transaction() as session:
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await emptied(Database(database_url))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(database_url: str) -> Config:
    base = load_config(env={})
    return base.replace(
        database=DatabaseConfig(url=database_url),
        staff=StaffConfig(telegram_ids=(STAFF_ID,)),
        reading_friends=ReadingFriendsConfig(phone_key=PHONE_KEY),
    )


@pytest.fixture
def services(config: Config, clock: FakeClock, db: Database) -> Services:
    return build_services(config, clock, db)


@pytest.fixture
async def world(services: Services, clock: FakeClock) -> World:
    """The small Norfolk of tests/world.py, in the test's database."""
    return await build_world(services.db, clock())


@pytest.fixture
def api(clock: FakeClock) -> LocalBotApi:
    return LocalBotApi(clock=clock.monotonic)


@pytest.fixture
async def app(services: Services, api: LocalBotApi, caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """The real Application on the stand-in; fails the test if any update crashed."""
    application = build_application(services, request=api)
    async with application:
        yield application
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashes, f"handlers logged errors: {[r.getMessage() for r in crashes]}"


@pytest.fixture
def people(app, api: LocalBotApi):  # type: ignore[no-untyped-def]
    """people(user_id, name) -> a LocalUser talking to the app."""

    def make(user_id: int, first_name: str = "Margaret") -> LocalUser:
        return LocalUser(app, api, user_id, first_name)

    return make


@pytest.fixture
def dispatcher(app, clock: FakeClock):  # type: ignore[no-untyped-def]
    """The outbox dispatcher, on the test's clock (sleeping moves the clock, nothing waits)."""
    return dispatcher_for(app, sleep=clock.sleep, monotonic=clock.monotonic)
