"""Reminders at scale: 100,000 pending reminders, Cuppa's outbox against one JobQueue job each.

    python bench/reminders_scale.py                      # 100,000 reminders, SQLite (temp folder)
    python bench/reminders_scale.py --reminders 20000 --repeat 1
    python bench/reminders_scale.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

Cuppa keeps each reminder as a pending `outbox` row and holds nothing about them in memory; a bot
that keeps reminders as python-telegram-bot JobQueue jobs must schedule every one again at each
start. In one run:

1. A fresh database gets N pending reminder rows (bulk insert, SQLAlchemy Core executemany; not
   timed): a day-before and an hour-before reminder for N/2 bookings of N/4 people, sessions
   spread over the next four weeks, realistic texts and buttons. A second fresh database stays
   empty (N = 0).
2. Start-up, each in a fresh subprocess so memory is clean, on both databases:
   - Cuppa: build_services + build_application (on the local Bot API stand-in), `async with
     application`, start_background (command menu, delivery loop, APScheduler's fixed jobs),
     application.start();
   - JobQueue: a bare python-telegram-bot Application (job-queue extra) on the same stand-in that
     reads the pending reminders from the same table (ORDER BY not_before: APScheduler's job
     store then appends, its cheapest case) and calls job_queue.run_once(callback, when=...,
     data=<the reminder's id>, chat_id=...) for each (the least a job can carry), then
     application.start() (which starts the JobQueue).
   Start-up time is build → ready inside the process (median of --repeat runs) and spawn → ready
   including the interpreter and imports. Memory is measured --settle seconds after ready (so
   the first delivery sweep and the scheduler's first jobs have run), after gc.collect(): Python
   allocations held since the imports (tracemalloc, in a separate run, as tracing slows
   allocation-heavy code), and the resident set's growth since the imports (/proc/self/statm).
3. One delivery sweep on the N-row database in this process: the --due earliest reminders are
   made due (not_before a minute ago), the rate limits are lifted (1e9 a second) so the sweep
   measures the database and the sending, not the pacing; the time of the first sweep (one batch
   of delivery.batch_size) and of sending all of them (median of --repeat such rounds), and of an
   idle sweep (nothing due) first.

Targets: at least 10× less memory for the reminders (what N reminders add over none) for Cuppa,
and a start-up that does not grow with N (within 25 % or 50 ms of the empty database's).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

UNLIMITED = 1e9
MEMORY_TARGET = 10.0
GROWTH_SHARE = 0.25  # start-up "does not grow": within 25 % ...
GROWTH_FLOOR = 0.05  # ... or 50 ms of the empty database's, whichever is more
REMINDERS_PER_BOOKING = 2
BOOKINGS_PER_PERSON = 2
FIRST_CHAT = 10_000_000
MB = 1024 * 1024


# measuring inside a child process ---------------------------------------


def rss_bytes() -> int | None:
    """The resident set now (Linux); None elsewhere."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def peak_rss_bytes() -> int | None:
    """The resident set's high-water mark (Linux's VmHWM: unlike ru_maxrss, which a child keeps
    from the parent it was forked from, it starts afresh at exec); None elsewhere."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class Probe:
    """Started once the child's imports are done: the baseline for time and memory."""

    def __init__(self, trace: bool) -> None:
        gc.collect()
        self.trace = trace
        self.imported_wall = time.time()
        self.rss_base = rss_bytes()
        if trace:
            tracemalloc.start()
        self.started = time.perf_counter()
        self.figures: dict[str, Any] = {"imported_wall": self.imported_wall}

    def mark(self, name: str) -> None:
        self.figures[f"{name}_s"] = time.perf_counter() - self.started

    def ready(self) -> None:
        self.figures["ready_s"] = time.perf_counter() - self.started
        self.figures["ready_wall"] = time.time()

    def memory(self) -> None:
        gc.collect()
        rss = rss_bytes()
        self.figures["rss_growth"] = (
            rss - self.rss_base if rss is not None and self.rss_base is not None else None
        )
        peak = peak_rss_bytes()
        self.figures["peak_rss_growth"] = (
            peak - self.rss_base if peak is not None and self.rss_base is not None else None
        )
        if self.trace:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.figures["traced"] = current
            self.figures["traced_peak"] = peak


async def cuppa_child(url: str, trace: bool, settle: float) -> dict[str, Any]:
    """Cuppa's start-up as `cuppa-bot run` does it (post_init is start_background)."""
    from bot.config import Config, DatabaseConfig
    from bot.core import build_services
    from bot.telegram.application import build_application, start_background, stop_background
    from bot.telegram.local_api import LocalBotApi

    probe = Probe(trace)
    services = build_services(Config().replace(database=DatabaseConfig(url=url)))
    application = build_application(services, request=LocalBotApi())
    async with application:
        await start_background(application)
        await application.start()
        probe.ready()
        await asyncio.sleep(settle)
        probe.memory()
        await application.stop()
        await stop_background(application)
    return probe.figures


async def send_reminder(context: Any) -> None:
    """The job's callback (never due during the benchmark): fetch the text by id, send it."""
    job = context.job
    await context.bot.send_message(job.chat_id, f"Reminder {job.data}")


async def jobqueue_child(url: str, trace: bool, settle: float) -> dict[str, Any]:
    """The alternative: every pending reminder becomes a JobQueue job at start-up."""
    from sqlalchemy import select
    from telegram.ext import Application

    from bot.db.database import Database
    from bot.db.models import OutboxMessage
    from bot.telegram.local_api import BOT_ID, LocalBotApi

    probe = Probe(trace)
    api = LocalBotApi()
    application = (
        Application.builder()
        .token(f"{BOT_ID}:local-stand-in-no-network")
        .request(api)
        .get_updates_request(api)
        .build()
    )
    db = Database(url)
    job_queue = application.job_queue
    if job_queue is None:
        raise SystemExit("no JobQueue: install python-telegram-bot[job-queue]")
    async with application:
        async with db.transaction() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.not_before)
                    .where(OutboxMessage.status == "pending", OutboxMessage.kind == "reminder")
                    .order_by(OutboxMessage.not_before, OutboxMessage.id)
                )
            ).all()
        probe.mark("loaded")
        for reminder_id, chat_id, not_before in rows:
            job_queue.run_once(send_reminder, when=not_before, data=reminder_id, chat_id=chat_id)
        del rows
        await application.start()
        probe.ready()
        await asyncio.sleep(settle)
        probe.memory()
        probe.figures["jobs"] = len(job_queue.scheduler.get_jobs())
        await application.stop()
    await db.dispose()
    return probe.figures


def child_main(args: argparse.Namespace) -> int:
    run = cuppa_child if args.child == "cuppa" else jobqueue_child
    figures = asyncio.run(run(args.url, args.trace, args.settle))
    print("RESULT " + json.dumps(figures), flush=True)
    return 0


# the parent: databases, children, the sweep --------------------------------


async def fill_reminders(url: str, reminders: int, seed: int) -> None:
    """N pending reminder rows: two per booking (a day and an hour before), two bookings per
    person, sessions on the half hour between 9:30am and 4pm local over the next 4 weeks."""
    from sqlalchemy import insert, text

    from bot import actions
    from bot.config import Config
    from bot.db.database import Database
    from bot.db.models import OutboxMessage, Person, new_key

    rng = random.Random(seed)
    tz = Config().tz
    now = datetime.now(UTC)
    bookings = (reminders + 1) // REMINDERS_PER_BOOKING
    people = max(1, bookings // BOOKINGS_PER_PERSON)
    person_rows = [
        {
            "id": index + 1,
            "telegram_id": FIRST_CHAT + index,
            "key": new_key(),
            "first_name": f"Reader{index}",
            "consented_at": now - timedelta(days=rng.randint(1, 400)),
            "created_at": now,
        }
        for index in range(people)
    ]
    places = ["Norwich Millennium Library", "King's Lynn Library", "Great Yarmouth Library"]
    activities = ["Just a Cuppa", "Wellbeing walk", "Knit and natter", "Reading group"]
    outbox_rows: list[dict[str, Any]] = []
    today = now.astimezone(tz).date()
    for booking in range(bookings):
        person = booking % people
        while True:  # a session far enough ahead for both reminders to be in the future
            day = today + timedelta(days=rng.randint(1, 28))
            minutes = rng.choice(range(9 * 60 + 30, 16 * 60 + 1, 30))
            wall = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minutes)
            starts_at = wall.astimezone(UTC)
            if starts_at - timedelta(days=1) > now + timedelta(minutes=5):
                break
        activity, place = rng.choice(activities), rng.choice(places)
        at = f"{wall:%-I:%M%p}".lower().replace(":00", "")
        where = f"Where: {place}, community room"
        for offset in (timedelta(days=1), timedelta(hours=1))[:REMINDERS_PER_BOOKING]:
            if len(outbox_rows) == reminders:
                break
            day_before = offset >= timedelta(days=1)
            lead = (
                f"A reminder: {activity} is tomorrow at {at}."
                if day_before
                else f"A reminder: {activity} starts at {at} today."
            )
            outbox_rows.append(
                {
                    "chat_id": FIRST_CHAT + person,
                    "person_id": person + 1,
                    "kind": "reminder",
                    "text": f"{lead}\n{where}" + ("\n\nStill coming?" if day_before else ""),
                    "buttons": (
                        [
                            [["Yes, I'll be there", actions.still_coming(booking + 1)]],
                            [["I can't make it", actions.cannot_come(booking + 1)]],
                        ]
                        if day_before
                        else None
                    ),
                    "booking_id": None,
                    "not_before": starts_at - offset,
                    "expires_at": starts_at,
                    "status": "pending",
                    "attempts": 0,
                    "last_error": "",
                    "created_at": now,
                }
            )
    db = Database(url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(insert(Person.__table__), person_rows)
            if not db.is_sqlite:
                await connection.execute(
                    text("SELECT setval(pg_get_serial_sequence('people', 'id'), :n)"),
                    {"n": people},
                )
            chunk = 10_000
            for start in range(0, len(outbox_rows), chunk):
                await connection.execute(
                    insert(OutboxMessage.__table__), outbox_rows[start : start + chunk]
                )
        if not db.is_sqlite:
            async with db.engine.connect() as connection:
                await connection.execute(text("ANALYZE"))
    finally:
        await db.dispose()


def run_child(kind: str, url: str, *, trace: bool, settle: float) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--url", url]
    command += ["--settle", str(settle)] + (["--trace"] if trace else [])
    spawned = time.time()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"the {kind} child failed ({done.returncode}):\n{done.stderr}")
    figures: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    figures["process_s"] = figures["ready_wall"] - spawned
    figures["imports_s"] = figures["imported_wall"] - spawned
    return figures


@dataclasses.dataclass
class StartUp:
    ready_s: float  # build → ready, median
    process_s: float  # spawn → ready, median
    loaded_s: float | None  # (JobQueue) of which reading the rows
    traced: int
    traced_peak: int
    rss_growth: int | None
    peak_rss_growth: int | None
    jobs: int | None


def start_up(kind: str, url: str, repeat: int, settle: float) -> StartUp:
    timed = [run_child(kind, url, trace=False, settle=settle) for _ in range(repeat)]
    traced = run_child(kind, url, trace=True, settle=settle)

    def median(key: str) -> Any:
        values = [run[key] for run in timed if run.get(key) is not None]
        return statistics.median(values) if values else None

    return StartUp(
        ready_s=median("ready_s"),
        process_s=median("process_s"),
        loaded_s=median("loaded_s"),
        traced=traced["traced"],
        traced_peak=traced["traced_peak"],
        rss_growth=median("rss_growth"),
        peak_rss_growth=median("peak_rss_growth"),
        jobs=traced.get("jobs"),
    )


@dataclasses.dataclass
class Sweep:
    batch_size: int
    rounds: int
    due: int  # made due in each round
    idle_s: float
    first_s: float  # median over the rounds
    first_sent: int
    all_s: float  # median over the rounds
    all_sweeps: int
    sent: int  # in all rounds
    still_pending: int


async def sweep_bench(url: str, due: int, rounds: int) -> Sweep:
    """Idle sweeps, then `rounds` times: make the `due` earliest pending reminders due, time the
    first sweep and the sweeps until all of them are sent."""
    from sqlalchemy import func, select, update

    from bot.config import Config, DatabaseConfig
    from bot.core import build_services
    from bot.db.models import OutboxMessage
    from bot.telegram.application import build_application, dispatcher_for
    from bot.telegram.local_api import LocalBotApi

    config = Config().replace(database=DatabaseConfig(url=url))
    config = config.replace(
        delivery=dataclasses.replace(
            config.delivery, messages_per_second=UNLIMITED, per_chat_per_second=UNLIMITED
        )
    )
    services = build_services(config)
    db = services.db
    application = build_application(services, request=LocalBotApi())
    await application.initialize()
    firsts: list[tuple[float, int]] = []
    alls: list[tuple[float, int]] = []
    try:
        dispatcher = dispatcher_for(application)
        idle = []
        for _ in range(6):  # the first opens the connection and compiles the statements
            started = time.perf_counter()
            report = await dispatcher.sweep()
            idle.append(time.perf_counter() - started)
            if report.handled:
                raise SystemExit("reminders were due before the benchmark made any due")
        for _ in range(rounds):
            async with db.transaction() as session:
                ids = list(
                    await session.scalars(
                        select(OutboxMessage.id)
                        .where(OutboxMessage.status == "pending")
                        .order_by(OutboxMessage.not_before, OutboxMessage.id)
                        .limit(due)
                    )
                )
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(not_before=datetime.now(UTC) - timedelta(minutes=1))
                )
            started = time.perf_counter()
            report = await dispatcher.sweep()
            firsts.append((time.perf_counter() - started, report.sent))
            sent, sweeps = report.handled, 1
            while sent < len(ids):
                report = await dispatcher.sweep()
                sweeps += 1
                sent += report.handled
                if report.handled == 0 and report.deferred == 0:
                    break
            alls.append((time.perf_counter() - started, sweeps))

        async with db.transaction() as session:
            counts = dict(
                (
                    await session.execute(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    )
                ).all()
            )
    finally:
        await application.shutdown()
        await db.dispose()
    firsts.sort()
    alls.sort()
    return Sweep(
        batch_size=config.delivery.batch_size,
        rounds=rounds,
        due=due,
        idle_s=statistics.median(idle[1:]),
        first_s=firsts[len(firsts) // 2][0],
        first_sent=firsts[len(firsts) // 2][1],
        all_s=alls[len(alls) // 2][0],
        all_sweeps=alls[len(alls) // 2][1],
        sent=int(counts.get("sent", 0)),
        still_pending=int(counts.get("pending", 0)),
    )


# the report ------------------------------------------------------------------


def load() -> str:
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


def mb(value: int | float | None) -> str:
    return "n/a" if value is None else f"{value / MB:8.1f} MB"


def grows(at_n: float, at_0: float) -> bool:
    return at_n - at_0 > max(GROWTH_SHARE * at_0, GROWTH_FLOOR)


def report(n: int, results: dict[tuple[str, int], StartUp], sweep: Sweep, repeat: int) -> bool:
    c_n, c_0 = results["cuppa", n], results["cuppa", 0]
    j_n, j_0 = results["jobqueue", n], results["jobqueue", 0]
    width = 40

    def row(label: str, cuppa: str, jobs: str) -> None:
        print(f"  {label:<{width}} {cuppa:>14}   {jobs:>14}")

    print()
    print(f"start-up and memory (time: median of {repeat}; Python memory: one traced run)")
    row("", "Cuppa outbox", "JobQueue jobs")
    for at, c, j in ((n, c_n, j_n), (0, c_0, j_0)):
        row(
            f"start-up, build → ready, {at:,} reminders", f"{c.ready_s:.3f} s", f"{j.ready_s:.3f} s"
        )
        if j.loaded_s is not None:
            row("  (JobQueue: of which reading the rows)", "", f"{j.loaded_s:.3f} s")
        row(
            f"start-up, spawn → ready, {at:,} reminders",
            f"{c.process_s:.3f} s",
            f"{j.process_s:.3f} s",
        )
    for at, c, j in ((n, c_n, j_n), (0, c_0, j_0)):
        row(f"Python memory held, {at:,} reminders", mb(c.traced), mb(j.traced))
        row(f"Python memory peak, {at:,} reminders", mb(c.traced_peak), mb(j.traced_peak))
        row(f"RSS growth after imports, {at:,}", mb(c.rss_growth), mb(j.rss_growth))
        row(f"peak RSS growth after imports, {at:,}", mb(c.peak_rss_growth), mb(j.peak_rss_growth))
    c_for = c_n.traced - c_0.traced
    j_for = j_n.traced - j_0.traced
    row(f"Python memory for {n:,} reminders (N − 0)", mb(c_for), mb(j_for))
    if c_n.rss_growth is not None and c_0.rss_growth is not None:
        row(
            "RSS for the reminders (N − 0)",
            mb(c_n.rss_growth - c_0.rss_growth),
            mb((j_n.rss_growth or 0) - (j_0.rss_growth or 0)),
        )
    if n:
        row("  per reminder", f"{c_for / n:,.0f} B", f"{j_for / n:,.0f} B")
    print(f"  (JobQueue jobs scheduled: {j_n.jobs:,} and {j_0.jobs:,})")

    print()
    # A negative or zero figure for Cuppa is noise around nothing: the ratio is then unbounded.
    ratio_for = j_for / c_for if c_for > 0 else float("inf")
    ratio_total = j_n.traced / c_n.traced
    ok_memory = ratio_for >= MEMORY_TARGET
    verdict = "ok" if ok_memory else "BELOW TARGET"
    shown = "unbounded" if c_for <= 0 else f"{ratio_for:,.0f}×"
    print(
        f"memory for the reminders, JobQueue/Cuppa : {shown}  (target >= {MEMORY_TARGET:g}×:"
        f" {verdict}; Cuppa {c_for / 1024:+,.1f} KB, JobQueue {j_for / MB:+,.1f} MB)"
    )
    print(
        f"whole start-up's Python memory at {n:,}, JobQueue/Cuppa: {ratio_total:,.1f}×"
        f"  ({mb(j_n.traced).strip()} against {mb(c_n.traced).strip()})"
    )
    cuppa_grows = grows(c_n.ready_s, c_0.ready_s)
    verdict = "GROWS" if cuppa_grows else "does not grow: ok"
    print(
        f"Cuppa start-up, {n:,} against 0 reminders   : {c_n.ready_s:.3f} s against"
        f" {c_0.ready_s:.3f} s ({c_n.ready_s - c_0.ready_s:+.3f} s; {verdict})"
    )
    per_job = (j_n.ready_s - j_0.ready_s) / n * 1e6 if n else 0.0
    print(
        f"JobQueue start-up, {n:,} against 0         : {j_n.ready_s:.3f} s against"
        f" {j_0.ready_s:.3f} s ({j_n.ready_s - j_0.ready_s:+.3f} s, {per_job:.1f} µs a reminder;"
        f" {'grows' if grows(j_n.ready_s, j_0.ready_s) else 'does not grow'})"
    )

    print()
    print(
        f"delivery sweep with {n:,} pending, {sweep.due:,} made due (batch_size"
        f" {sweep.batch_size}, rate limits lifted; median of {sweep.rounds} rounds)"
    )
    print(f"  idle sweep, nothing due                : {sweep.idle_s * 1000:8.1f} ms")
    print(
        f"  one sweep (first batch)                : {sweep.first_s * 1000:8.1f} ms"
        f" ({sweep.first_sent} sent)"
    )
    print(
        f"  all {sweep.due:,} sent                         : {sweep.all_s * 1000:8.1f} ms"
        f" ({sweep.all_sweeps} sweeps, {sweep.due / sweep.all_s:,.0f} msg/s);"
        f" still pending after: {sweep.still_pending:,}"
    )
    return ok_memory and not cuppa_grows


async def main(args: argparse.Namespace) -> int:
    from bench.delivery import scratch_database

    backend = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    n = args.reminders
    print(f"reminders at scale on {backend}, {n:,} reminders, Python {sys.version.split()[0]}")
    print(f"  {load()}: timings are only as quiet as the machine")
    results: dict[tuple[str, int], StartUp] = {}
    async with (
        scratch_database(args.database_url) as full,
        scratch_database(args.database_url) as empty,
    ):
        started = time.perf_counter()
        await fill_reminders(full, n, args.seed)
        print(f"  wrote {n:,} pending reminder rows in {time.perf_counter() - started:.1f} s")
        for kind in ("cuppa", "jobqueue"):
            for at, url in ((n, full), (0, empty)):
                started = time.perf_counter()
                results[kind, at] = start_up(kind, url, args.repeat, args.settle)
                took = time.perf_counter() - started
                print(f"  {kind} start-up runs, {at:,} reminders: {took:.1f} s")
        due = min(args.due, n)
        rounds = max(1, min(args.repeat, n // due if due else 1))
        sweep = await sweep_bench(full, due, rounds)
        if sweep.sent != due * rounds or sweep.still_pending != n - due * rounds:
            raise SystemExit(
                f"sent {sweep.sent} of {due * rounds}; {sweep.still_pending} still pending"
            )
    ok = report(n, results, sweep, args.repeat)
    print(f"  {load()} at the end")
    return 0 if ok else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=100_000, help="pending reminders (N)")
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+asyncpg://...)")
    parser.add_argument("--due", type=int, default=1_000, help="reminders made due for the sweep")
    parser.add_argument("--repeat", type=int, default=3, help="timed start-ups per case")
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds after ready before measuring memory"
    )
    parser.add_argument("--seed", type=int, default=1, help="for the reminders' times")
    parser.add_argument("--child", choices=["cuppa", "jobqueue"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    if arguments.child:
        sys.exit(child_main(arguments))
    sys.exit(asyncio.run(main(arguments)))
