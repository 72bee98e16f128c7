"""`cuppa-bot`: run the bot, talk to it in a terminal, and look after its database."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import click

from bot.config import Config, ConfigError, load_config
from bot.core import Services, build_services
from bot.db.database import DatabaseInUse, SQLiteProcessLock
from bot.demo import seed_demo
from bot.services.phones import PhoneKeyError, new_key

T = TypeVar("T")
EXIT_CONFIG = 2
DEMO_KEY_FILE = "cuppa-demo-phone.key"
_held_locks: list[SQLiteProcessLock] = []


def fail(message: str) -> None:
    """One clear line and exit status 2, for anything the person running us must fix."""
    click.echo(f"cuppa-bot: {message}", err=True)
    sys.exit(EXIT_CONFIG)


def with_services(config: Config, work: Callable[[Services], Awaitable[T]]) -> T:
    """Run `work` with a prepared database, disposing of the engine afterwards."""

    async def runner() -> T:
        services = build_services(config)
        try:
            await services.db.upgrade()
            return await work(services)
        finally:
            await services.db.dispose()

    try:
        return asyncio.run(runner())
    except (ConfigError, PhoneKeyError) as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


async def migrated(services: Services) -> None:
    """Nothing more to do once `with_services` has applied the migrations."""


async def ready_to_serve(services: Services) -> None:
    """Refuse to start without the phone key once any reader's number is stored."""
    if not services.vault.ready and await services.readers.count():
        raise PhoneKeyError(
            "readers are registered, so reading_friends.phone_key must be set to read their "
            "phone numbers (CUPPA_READING_FRIENDS_PHONE_KEY)"
        )


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="TOML configuration file (default: ./config.toml if present).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """Cuppa: book Just a Cuppa, wellbeing sessions and Reading Friends calls."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "apscheduler", "aiosqlite", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        ctx.obj = load_config(config_path)
    except ConfigError as exc:
        fail(str(exc))


@main.command()
@click.option(
    "--as",
    "who",
    default="resident",
    show_default=True,
    help="Speak as this Telegram user id, or as 'resident', 'staff' or 'volunteer'.",
)
@click.pass_obj
def chat(config: Config, who: str) -> None:
    """Talk to the bot in this terminal, on demo data, with no Telegram token."""
    from bot.telegram.terminal import run_terminal_chat, speaker

    try:
        user_id, config = speaker(who, config)
    except ConfigError as exc:
        fail(str(exc))
    logging.getLogger().setLevel(logging.WARNING)
    config = with_demo_phone_key(config)
    hold_single_process_lock(config)

    async def talk(services: Services) -> None:
        await ready_to_serve(services)
        await run_terminal_chat(services, user_id)

    with_services(config, talk)


@main.command()
@click.pass_obj
def run(config: Config) -> None:
    """Run the bot on Telegram: polling, or a webhook when telegram.webhook_url is set."""
    from bot.telegram.application import build_application

    if not config.telegram.token:
        fail("no Telegram token: set telegram.token in the configuration or CUPPA_TELEGRAM_TOKEN")

    hold_single_process_lock(config)
    with_services(config, ready_to_serve)
    application = build_application(build_services(config))
    telegram = config.telegram
    if telegram.webhook_url:
        application.run_webhook(
            listen=telegram.webhook_listen,
            port=telegram.webhook_port,
            url_path=urlparse(telegram.webhook_url).path.lstrip("/"),
            webhook_url=telegram.webhook_url,
            secret_token=telegram.webhook_secret or None,
        )
    else:
        application.run_polling()


@main.command("seed-demo")
@click.pass_obj
def seed_demo_command(config: Config) -> None:
    """Load the demo libraries, activities and sessions (safe to run twice)."""

    async def seed(services: Services) -> Any:
        return await seed_demo(services.db, services.config, services.clock)

    report = with_services(config, seed)
    click.echo(
        f"Added {report.libraries} libraries, {report.activities} activities, "
        f"{report.sessions} sessions and {report.volunteers} volunteers."
    )


@main.command("import-sessions")
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.pass_obj
def import_sessions(config: Config, csv_file: Path) -> None:
    """Import sessions from a staff spreadsheet saved as CSV (columns: see the README)."""
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {csv_file}: {exc}")

    async def work(services: Services) -> int:
        plans, problems = await services.importer.check(text)
        if problems:
            for problem in problems:
                click.echo(f"{csv_file}: line {problem.line}: {problem.message}", err=True)
            click.echo(f"Nothing was imported: {len(problems)} row(s) need correcting.", err=True)
            return -1
        with click.progressbar(length=len(plans), label="Importing sessions") as bar:
            return await services.importer.load(plans, bar.update)

    imported = with_services(config, work)
    if imported < 0:
        sys.exit(1)
    click.echo(f"Imported {imported} session(s).")


@main.command()
@click.pass_obj
def doctor(config: Config) -> None:
    """Check the configuration, database, migrations, phone key and token; say what is wrong."""
    from bot.telegram.doctor import diagnose

    findings = asyncio.run(diagnose(config))
    for finding in findings:
        click.echo(f"{'ok ' if finding.ok else 'BAD'}  {finding.what}")
    problems = sum(not finding.ok for finding in findings)
    click.echo("All good." if not problems else f"{problems} problem(s) to fix.")
    sys.exit(1 if problems else 0)


@main.command()
@click.option("--from", "start", required=True, help="First day, like 2026-11-01.")
@click.option("--to", "end", required=True, help="Last day, included, like 2026-11-30.")
@click.option(
    "--csv", "csv_file", type=click.Path(path_type=Path), help="Write every figure to this CSV."
)
@click.pass_obj
def report(config: Config, start: str, end: str, csv_file: Path | None) -> None:
    """Participation figures for the local days --from to --to (sessions and calls already
    started): a short summary here, every figure in the CSV (columns: see the README)."""
    from bot.services.reports import ReportError, to_csv

    first, last = report_day("--from", start), report_day("--to", end)
    if first > last:
        fail(f"--from {start} is after --to {end}")
    if csv_file is not None and not csv_file.parent.is_dir():
        fail(f"cannot write {csv_file}: there is no folder {csv_file.parent}")

    async def work(services: Services) -> Any:
        return await services.reports.build(first, last, staff_id=0, via="command line")

    try:
        figures = with_services(config, work)
    except ReportError as exc:
        fail(str(exc))
    if csv_file is not None:
        try:
            csv_file.write_text(to_csv(figures), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {csv_file}: {exc.strerror or exc}")
    s, calls = figures.sessions, figures.calls
    click.echo(f"Report for {first.isoformat()} to {last.isoformat()}:")
    click.echo(
        f"  sessions held {s.sessions_held}, cancelled {s.sessions_cancelled}; places booked "
        f"{s.places_booked}, attended {s.attended}, no-shows {s.no_shows}; "
        f"people reached {s.people_reached}"
    )
    click.echo(
        f"  Reading Friends calls booked {calls.calls_booked}, done {calls.done}, "
        f"unmatched {calls.unmatched}, concerns {calls.concerns}"
    )
    if figures.areas_not_reached:
        click.echo(f"  nobody reached in: {', '.join(figures.areas_not_reached)}")
    if csv_file is not None:
        click.echo(f"Every figure is in {csv_file}.")


def report_day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date: write it like 2026-11-01")
        raise  # unreachable: fail() exits


@main.command("new-key")
def new_key_command() -> None:
    """Print a new key for reading_friends.phone_key (keep it safe; it cannot be recovered)."""
    click.echo(new_key())


def hold_single_process_lock(config: Config) -> None:
    """One bot process per SQLite file; the lock lasts as long as this process."""
    lock = SQLiteProcessLock(config.database.url)
    try:
        lock.acquire()
    except DatabaseInUse as exc:
        fail(str(exc))
    _held_locks.append(lock)


def with_demo_phone_key(config: Config) -> Config:
    """The terminal chat on a machine with no key: keep one beside the demo database."""
    if config.reading_friends.phone_key:
        return config
    path = Path(DEMO_KEY_FILE)
    if not path.exists():
        path.write_text(new_key() + "\n", encoding="utf-8")
        path.chmod(0o600)
    key = path.read_text(encoding="utf-8").strip()
    return config.replace(reading_friends=replace(config.reading_friends, phone_key=key))


@main.group()
def db() -> None:
    """Look after the database."""


@db.command()
@click.pass_obj
def upgrade(config: Config) -> None:
    """Apply every migration not yet applied."""
    with_services(config, migrated)
    click.echo("The database is up to date.")
