"""`cuppa-bot doctor`: check the configuration, database, migrations, phone key and token, and
say plainly what is wrong and what to do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import Config
from bot.core import Services, build_services
from bot.db.database import alembic_config
from bot.services.phones import PhoneKeyError


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str


def revisions(connection: Connection, url: str) -> tuple[str | None, str | None]:
    """The database's migration revision and the newest one this code has."""
    current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    return current, head


async def check_database(services: Services) -> list[Finding]:
    url = services.config.database.url
    try:
        async with services.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current, head = await connection.run_sync(revisions, url)
    except Exception as exc:  # any driver error: the point is to report it plainly
        return [Finding(False, f"cannot open the database {safe(url)}: {exc}")]
    found = [Finding(True, f"the database {safe(url)} answers")]
    if current == head:
        found.append(Finding(True, f"the schema is up to date (migration {head})"))
    else:
        found.append(
            Finding(
                False,
                f"the schema is at migration {current or 'none'}, the code needs {head}: run "
                "`cuppa-bot db upgrade`",
            )
        )
    return found


async def check_phone_key(services: Services) -> list[Finding]:
    try:
        readers = await services.readers.count()
    except Exception:  # no tables yet: the database check above already says so
        return []
    if services.vault.ready:
        return [Finding(True, "the phone key is set")]
    if readers:
        return [
            Finding(
                False,
                f"{readers} readers are registered but reading_friends.phone_key is not set: "
                "their numbers cannot be read; set the key they were stored with",
            )
        ]
    return [
        Finding(
            True, "no phone key yet (needed before the first reader registers: `cuppa-bot new-key`)"
        )
    ]


async def check_token(config: Config) -> list[Finding]:
    if not config.telegram.token:
        return [Finding(False, "no Telegram token: set telegram.token or CUPPA_TELEGRAM_TOKEN")]
    bot = Bot(config.telegram.token, base_url=config.telegram.base_url)
    try:
        async with bot:
            me = await bot.get_me()
    except InvalidToken:
        return [Finding(False, "Telegram does not accept the token: check it with @BotFather")]
    except NetworkError as exc:
        return [Finding(False, f"cannot reach Telegram at {config.telegram.base_url}: {exc}")]
    except TelegramError as exc:
        return [Finding(False, f"Telegram refused: {exc}")]
    mode = f"webhook at {config.telegram.webhook_url}" if config.telegram.webhook_url else "polling"
    return [Finding(True, f"the token works: this is @{me.username} ({mode})")]


async def diagnose(config: Config) -> list[Finding]:
    findings = [Finding(True, f"the configuration reads correctly (time zone {config.tz.key})")]
    try:
        services = build_services(config)
    except PhoneKeyError as exc:
        return [*findings, Finding(False, str(exc))]
    try:
        checks: list[Callable[[], Awaitable[list[Finding]]]] = [
            lambda: check_database(services),
            lambda: check_phone_key(services),
            lambda: check_token(config),
        ]
        for check in checks:
            findings += await check()
    finally:
        await services.db.dispose()
    return findings


def safe(url: str) -> str:
    """The database URL without its password."""
    return make_url(url).render_as_string(hide_password=True)
