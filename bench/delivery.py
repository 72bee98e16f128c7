"""Delivery benchmark: the outbox path against a plain python-telegram-bot loop, and the 30/s pace.

    python bench/delivery.py                      # both parts, SQLite in a temporary folder
    python bench/delivery.py --skip-paced         # part (a) only
    python bench/delivery.py --profile a.prof     # also profile part (a)'s delivery run
    python bench/delivery.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

(a) Throughput: N outbox rows (one per chat) through the whole delivery path, `Dispatcher.sweep()`
    in a loop as the delivery loop runs it, with real sleep and monotonic time and the rate limits
    lifted out of the way (1e9 a second), against the local Bot API stand-in; then the same number
    of `await bot.send_message(chat_id, text)` in a plain loop on the same bot and stand-in. The
    ratio of the two rates is the cost of the outbox (target: at least 0.8).
(b) Pace: M rows with the real limits (30 a second): the achieved rate as a share of 30/s
    (target: at least 0.97) and the most sendMessage calls in any one second, from the stand-in's
    own timestamps (must be at most 30). Takes about M/30 seconds. --latency-ms adds a simulated
    round trip to every call (half before the stand-in stamps it, half after), as Telegram has.

With --database-url (PostgreSQL), a scratch database is created on that server and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from bot.config import Config, DatabaseConfig  # noqa: E402
from bot.core import Services, build_services  # noqa: E402
from bot.db.database import Database  # noqa: E402
from bot.db.models import OutboxMessage, Person  # noqa: E402
from bot.delivery.dispatcher import Dispatcher  # noqa: E402
from bot.services.outbox import enqueue  # noqa: E402
from bot.telegram.application import (  # noqa: E402
    build_application,
    dispatcher_for,
    freeze_start_up_objects,
)
from bot.telegram.local_api import DistantBotApi, LocalBotApi, most_in_one_second  # noqa: E402

UNLIMITED = 1e9
WARM_UP = 10
THROUGHPUT_TARGET = 0.8
PACE_TARGET = 0.97


async def fill_outbox(db: Database, chats: list[int]) -> None:
    """One consenting person per chat and one message each, written with enqueue()."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        people = [Person(telegram_id=c, first_name=f"R{c}", consented_at=now) for c in chats]
        session.add_all(people)
        await session.flush()
        for person in people:
            enqueue(session, person, kind="bench", text=f"News for {person.telegram_id}", now=now)


async def count_status(db: Database, status: str) -> int:
    async with db.transaction() as session:
        stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
        return int(await session.scalar(stmt) or 0)


def services_for(url: str, *, unlimited: bool) -> Services:
    config = Config().replace(database=DatabaseConfig(url=url))
    if unlimited:
        config = config.replace(
            delivery=dataclasses.replace(
                config.delivery, messages_per_second=UNLIMITED, per_chat_per_second=UNLIMITED
            )
        )
    return build_services(config)


async def drain(dispatcher: Dispatcher, poll_seconds: float) -> None:
    """Sweep as the delivery loop does (again at once while there is work) until all is sent."""
    while True:
        report = await dispatcher.sweep()
        if report.handled == 0 and report.deferred == 0:
            return
        if report.handled == 0:
            await asyncio.sleep(poll_seconds)


# (a) throughput --------------------------------------------------------


def settle() -> None:
    """Start each timed run alike: what was set up frozen out of the garbage collector's reach
    (else a full collection, scanning every object the setup made, falls by chance in one run
    and not the other: about 0.1 s, a tenth of the outbox run, was seen)."""
    gc.unfreeze()
    freeze_start_up_objects()


async def throughput(url: str, messages: int, repeats: int, profile: str | None) -> float:
    """Part (a), `repeats` times over, each with a fresh outbox of `messages` rows and the same
    number of plain sends. Whichever of the two goes second in a repeat was seen to run a few per
    cent slower (the heap the first left behind), so they take turns going first; the median
    ratio is the figure, as one repeat can be off by a few per cent either way on a busy machine."""
    services = services_for(url, unlimited=True)
    api = LocalBotApi(history=False)  # it counts what it is sent (see LocalBotApi)
    application = build_application(services, request=api)
    await application.initialize()
    profiler = cProfile.Profile() if profile else None
    ratios = []
    print(f"(a) throughput, {messages:,} messages to {messages:,} chats, {repeats} times")
    try:
        bot = application.bot
        for chat in range(WARM_UP):  # warm up the bot's code paths (and imports) first
            await bot.send_message(5_000_000 + chat, "warm up")
        dispatcher = dispatcher_for(application)
        for repeat in range(repeats):
            chats = list(range(1_000_000 * (repeat + 1), 1_000_000 * (repeat + 1) + messages))
            await fill_outbox(services.db, chats)

            async def plain(chats: list[int] = chats) -> float:
                settle()
                started = time.perf_counter()
                for chat in chats:
                    await bot.send_message(chat, f"News for {chat}")
                return time.perf_counter() - started

            async def outbox() -> float:
                settle()
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                await drain(dispatcher, services.config.delivery.poll_seconds)
                if profiler:
                    profiler.disable()
                return time.perf_counter() - started

            if repeat % 2 == 0:
                plain_seconds, outbox_seconds = await plain(), await outbox()
            else:
                outbox_seconds, plain_seconds = await outbox(), await plain()
            gc.unfreeze()

            sent = await count_status(services.db, "sent")
            if sent != messages * (repeat + 1):
                raise SystemExit(f"only {sent} of {messages} outbox rows were sent")
            received = api.counts["sendMessage"] - WARM_UP
            if received != 2 * messages * (repeat + 1):
                raise SystemExit(f"the stand-in was sent {received}, not {2 * messages} a repeat")
            ratios.append(plain_seconds / outbox_seconds)
            first = "plain first" if repeat % 2 == 0 else "outbox first"
            print(
                f"    {repeat + 1} ({first}): plain send_message loop"
                f" {messages / plain_seconds:7,.0f} msg/s, outbox Dispatcher.sweep()"
                f" {messages / outbox_seconds:7,.0f} msg/s: ratio {ratios[-1]:.3f}"
            )
    finally:
        await application.shutdown()
        await services.db.dispose()

    ratio = statistics.median(ratios)
    verdict = "ok" if ratio >= THROUGHPUT_TARGET else "BELOW TARGET"
    target = f"target >= {THROUGHPUT_TARGET}: {verdict}"
    print(f"    ratio outbox/plain (median) : {ratio:9.3f}  ({target})")
    if profiler and profile:
        profiler.dump_stats(profile)
        print(f"    profile of the outbox runs written to {profile}; top functions by own time:")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(15)
    return ratio


# (b) pace --------------------------------------------------------------


async def pace(url: str, messages: int, latency_ms: float) -> tuple[float, int]:
    services = services_for(url, unlimited=False)
    limit = services.config.delivery.messages_per_second
    chats = list(range(2_000_000, 2_000_000 + messages))
    await fill_outbox(services.db, chats)
    # Stamps calls with time.monotonic.
    api = DistantBotApi(latency_ms / 1000) if latency_ms else LocalBotApi()
    application = build_application(services, request=api)
    await application.initialize()
    freeze_start_up_objects()  # as the bot's start-up does
    try:
        dispatcher = dispatcher_for(application)
        started = time.perf_counter()
        await drain(dispatcher, services.config.delivery.poll_seconds)
        wall = time.perf_counter() - started
        sent = await count_status(services.db, "sent")
        if sent != messages:
            raise SystemExit(f"only {sent} of {messages} outbox rows were sent")
    finally:
        await application.shutdown()
        await services.db.dispose()

    times = [call.at for call in api.sent()]
    span = max(times) - min(times)
    rate = (len(times) - 1) / span
    share = rate / limit
    peak = most_in_one_second(times)
    network = f", {latency_ms:g} ms round trip" if latency_ms else ""
    print(f"(b) pace, {messages:,} messages with the real limit of {limit:g}/s{network}")
    print(
        f"    achieved rate (stand-in)    : {rate:9.2f} msg/s over {span:.1f} s (wall {wall:.1f} s)"
    )
    verdict = "ok" if share >= PACE_TARGET else "BELOW TARGET"
    target = f"target >= {PACE_TARGET}: {verdict}"
    print(f"    share of {limit:g}/s              : {share:9.3f}  ({target})")
    verdict = "ok" if peak <= limit else "OVER THE LIMIT"
    print(f"    most in any one second      : {peak:9d}  (must be <= {limit:g}: {verdict})")
    return share, peak


async def main(args: argparse.Namespace) -> int:
    backend = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(f"delivery benchmark on {backend}, Python {sys.version.split()[0]}")
    ok = True
    if not args.skip_throughput:
        async with scratch_database(args.database_url) as url:
            ratio = await throughput(url, args.messages, args.repeats, args.profile)
        ok = ok and ratio >= THROUGHPUT_TARGET
    if not args.skip_paced:
        async with scratch_database(args.database_url) as url:
            share, peak = await pace(url, args.paced, args.latency_ms)
        ok = ok and share >= PACE_TARGET and peak <= 30
    return 0 if ok else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="part (a) size")
    parser.add_argument("--repeats", type=int, default=4, help="part (a): times over (median)")
    parser.add_argument("--paced", type=int, default=1_500, help="part (b) size")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="part (b): simulated round trip per call"
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+asyncpg://...)")
    parser.add_argument("--profile", help="write a cProfile of part (a)'s outbox run here")
    parser.add_argument("--skip-throughput", action="store_true", help="skip part (a)")
    parser.add_argument("--skip-paced", action="store_true", help="skip part (b)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
