"""Load benchmark: simulated residents through the whole Application, against a bare echo bot.

    python bench/load.py                                  # SQLite in a temporary folder
    python bench/load.py --conversations 200 --concurrency 10
    python bench/load.py --profile load.prof --sql-stats  # where the time goes
    python bench/load.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

A fresh database is filled with bulk inserts (SQLAlchemy Core, a few thousand rows a statement):
Norfolk's libraries (the demo CSV), the activities, --sessions upcoming sessions (default
50,000: at the libraries and online, over the next four weeks, at Europe/London wall-clock
times), --residents consenting people (default 20,000: Telegram ids, most with a home library)
and --bookings existing bookings (places, and waiting lists where a session filled up).

Then --conversations simulated residents (default 500), --concurrency at a time (default 20, as
asyncio tasks), each talk to the real `Application` (`process_update`) through the local Bot API
stand-in. Half are new: /start → "Yes, that's fine" → an area → a library → a preference; the
others are among the residents already in the database: /start (the menu). Then all of them:
/sessions → a kind → a place (their library, online or anywhere) → a day → (sometimes the next
page) → a session → "Book a place" (or the waiting list) → /mybookings. Every update is timed
around `LocalUser.deliver` (the update built from JSON, `process_update`, the replies collected);
the wall time of the whole run gives updates per second.

In the same run, the baseline: a bare python-telegram-bot `Application` with one MessageHandler
that echoes the text back, on a fresh stand-in, handling the same number of updates (the same
count per simulated person) with the same concurrency. And the Telegram floor: every update of
the Cuppa run sent again, as many at a time, to a bare `Application` that makes exactly the Bot
API calls Cuppa made for it (the same texts and keyboards) and nothing else. It is as fast as
any bot sending Cuppa's replies through python-telegram-bot can be, so floor/echo is the
ceiling of the Cuppa/echo ratio, and Cuppa's time less the floor's is its own work (the
database, the logic, building the messages). The three alternate in --rounds rounds (default
5), so other work on the machine (its load average is printed) falls on all alike.
--profile writes a cProfile of the Cuppa run; --sql-stats times every SQL statement of the
one-at-a-time pass, and how long each step holds a connection. Printed: the three rates and
p50/p95, the ratio of Cuppa's rate to the echo's (target: at least 0.3), floor/echo, Cuppa's own
work an update and, on SQLite, the p95 verdict (target: under 25 ms). A shorter pass with one
person at a time (--solo conversations) shows the handling time without queueing behind the
other residents, and a per-step table shows which steps cost most. (With N residents at a time
who never pause, every update also waits for the others: one process, and on SQLite one
transaction at a time. So the handling time is about N / the rate, Little's law; the p95 here
is about twice that, so a p95 under 25 ms at 20 at a time needs about 1,600 updates a second.)

With --database-url (PostgreSQL), a scratch database is created on that server and dropped after
(VACUUM ANALYZEd after the bulk load, as autovacuum would soon do on a live server).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import logging
import os
import pstats
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, select, text  # noqa: E402
from telegram import InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bench.scratch import scratch_database  # noqa: E402
from bot.clock import at_local  # noqa: E402
from bot.config import DatabaseConfig, load_config  # noqa: E402
from bot.core import Services, build_services  # noqa: E402
from bot.db.database import Database  # noqa: E402
from bot.db.models import Activity, Booking, Library, LibrarySession, Person  # noqa: E402
from bot.demo import ACTIVITIES, read_libraries  # noqa: E402
from bot.telegram.application import (  # noqa: E402
    LOCAL_TOKEN,
    build_application,
    freeze_start_up_objects,
)
from bot.telegram.local_api import LocalBotApi, Shown  # noqa: E402
from bot.telegram.local_chat import LocalUser  # noqa: E402

RATIO_TARGET = 0.3
P95_TARGET_MS = 25.0
CHUNK = 5_000  # rows a statement in the bulk fill
WEEKS = 4
SLOTS = [wall_time(h, m) for h in range(9, 20) for m in (0, 30)]  # 9am to 7:30pm, local
CAPACITIES = [8, 10, 12, 12, 15, 20, 25, 30, 40]
NEW_IDS = 800_000_000  # Telegram ids of simulated newcomers
KNOWN_IDS = 500_000_000  # Telegram ids of the residents already in the database
WARM_IDS = 900_000_000
ECHO_IDS = 700_000_000

log = logging.getLogger("bench.load")


# the bulk fill ---------------------------------------------------------


@dataclass
class Filled:
    libraries: int = 0
    activities: int = 0
    sessions: int = 0
    residents: int = 0
    bookings: int = 0
    waiting: int = 0
    seconds: float = 0.0


async def insert_rows(db: Database, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Core executemany inserts, CHUNK rows a statement, one transaction each."""
    for start in range(0, len(rows), CHUNK):
        async with db.transaction() as session:
            await session.execute(insert(table), list(rows[start : start + CHUNK]))


async def fill(db: Database, args: argparse.Namespace, now: datetime, tz: Any) -> Filled:
    rng = random.Random(args.seed)
    started = time.perf_counter()
    report = Filled()

    libraries = [
        {
            "name": row["name"],
            "town": row["town"],
            "area": row["area"],
            "address": row["address"],
            "postcode": row["postcode"],
            "latitude": float(row["latitude"]),
            "longitude": float(row["longitude"]),
            "phone": row["phone"],
            "accessibility": row["accessibility"],
        }
        for row in read_libraries()
    ]
    await insert_rows(db, Library.__table__, libraries)
    activities = [
        {"name": name, "description": description, "keywords": keywords}
        for name, description, keywords in ACTIVITIES
    ]
    await insert_rows(db, Activity.__table__, activities)
    async with db.transaction() as session:
        library_ids = list(await session.scalars(select(Library.id).order_by(Library.id)))
        activity_ids = list(await session.scalars(select(Activity.id).order_by(Activity.id)))
    report.libraries, report.activities = len(library_ids), len(activity_ids)

    # Sessions: local days from today for four weeks, at half-hour wall-clock slots (so the
    # same 10am whether GMT or BST); about one in eight online; a few cancelled.
    today = now.astimezone(tz).date()
    instants = {
        (day, slot): at_local(today + timedelta(days=day), wall, tz)
        for day in range(WEEKS * 7)
        for slot, wall in enumerate(SLOTS)
    }
    soonest = now + timedelta(minutes=30)
    sessions = []
    for _ in range(args.sessions):
        starts_at = instants[(rng.randrange(WEEKS * 7), rng.randrange(len(SLOTS)))]
        while starts_at <= soonest:  # today's slots already gone: another day
            starts_at = instants[(rng.randrange(1, WEEKS * 7), rng.randrange(len(SLOTS)))]
        online = rng.random() < 0.12
        activity_id = rng.choice(activity_ids)
        sessions.append(
            {
                "activity_id": activity_id,
                "library_id": None if online else rng.choice(library_ids),
                "online": online,
                "join_link": f"https://meet.norfolk-libraries.example/{uuid.uuid4().hex[:12]}"
                if online
                else "",
                "starts_at": starts_at,
                "duration_minutes": rng.choice((60, 90)),
                "capacity": rng.choice(CAPACITIES),
                "notes": "Tea, coffee and biscuits provided." if activity_id == 1 else "",
                "status": "cancelled" if rng.random() < 0.01 else "scheduled",
                "series_id": None,
                "series_day": None,
                "announce": False,
                "created_at": now - timedelta(days=rng.randrange(1, 60)),
                "updated_at": now,
            }
        )
    await insert_rows(db, LibrarySession.__table__, sessions)
    report.sessions = len(sessions)
    del sessions

    people = [
        {
            "telegram_id": KNOWN_IDS + n,
            "key": uuid.UUID(int=rng.getrandbits(128)).hex,
            "first_name": f"Resident{n}",
            "consented_at": now - timedelta(days=rng.randrange(1, 400)),
            "home_library_id": rng.choice(library_ids) if rng.random() < 0.85 else None,
            "preference": rng.choice(("in_person", "online", "both", "both")),
            "awaiting": None,
            "reminder_offsets": None,
            "news_opt_in": rng.random() < 0.4,
            "digest_sent_at": None,
            "unreachable_at": None,
            "created_at": now - timedelta(days=rng.randrange(1, 400)),
        }
        for n in range(args.residents)
    ]
    await insert_rows(db, Person.__table__, people)
    report.residents = len(people)
    del people

    # Existing bookings: random residents on random scheduled sessions; a place while there is
    # one, then a few on the waiting list.
    async with db.transaction() as session:
        open_sessions = (
            await session.execute(
                select(LibrarySession.id, LibrarySession.capacity).where(
                    LibrarySession.status == "scheduled"
                )
            )
        ).all()
        residents = (await session.execute(select(Person.id, Person.key))).all()
    booked: dict[int, int] = defaultdict(int)
    waiting: dict[int, int] = defaultdict(int)
    taken: set[tuple[int, int]] = set()
    bookings = []
    while len(bookings) < args.bookings and residents and open_sessions:
        session_id, capacity = rng.choice(open_sessions)
        person_id, key = rng.choice(residents)
        if (session_id, person_id) in taken:
            continue
        if booked[session_id] < capacity:
            status = "booked"
            booked[session_id] += 1
        elif waiting[session_id] < 3:
            status = "waiting"
            waiting[session_id] += 1
        else:
            continue
        taken.add((session_id, person_id))
        created = now - timedelta(minutes=rng.randrange(1, 30 * 24 * 60))
        bookings.append(
            {
                "session_id": session_id,
                "person_id": person_id,
                "person_key": key,
                "status": status,
                "was_waitlisted": status == "waiting",
                "attendance": None,
                "created_at": created,
                "updated_at": created,
            }
        )
    await insert_rows(db, Booking.__table__, bookings)
    report.bookings = len(bookings)
    report.waiting = sum(waiting.values())

    if not db.is_sqlite:  # as autovacuum soon would after a bulk load on a live server
        async with db.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))
    report.seconds = time.perf_counter() - started
    return report


# timing ----------------------------------------------------------------


@dataclass
class Timings:
    """Per-update handling times (seconds), overall and by step."""

    times: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, step: str, seconds: float) -> None:
        self.times.append(seconds)
        self.by_step[step].append(seconds)


def percentile(values: Iterable[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


@dataclass
class RunResult:
    name: str
    updates: int
    seconds: float
    timings: Timings

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def p50_ms(self) -> float:
        return percentile(self.timings.times, 0.50) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.timings.times, 0.95) * 1000


async def run_pool(jobs: Sequence[Callable[[], Awaitable[None]]], concurrency: int) -> float:
    """Run the jobs, `concurrency` at a time; the wall time taken."""
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:  # one shared iterator: each job is taken by one worker
            await job()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


# the simulated residents -----------------------------------------------

_query_ids = itertools.count(1)
CURRENT_STEP = [""]  # the step being timed, for --sql-stats (read only one at a time)
# the Bot API calls the current update made (Cuppa run), or is to make (floor run)
BOT_API_CALLS: ContextVar[list[tuple[str, dict[str, Any]]]] = ContextVar("bot_api_calls")


class StepFailed(AssertionError):
    """The bot did not show what a resident expected at this step."""


class RecordingBotApi(LocalBotApi):
    """The Cuppa run's stand-in, which also notes the Bot API calls each update made (into
    the list in BOT_API_CALLS), for the floor run to make again."""

    async def do_request(
        self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:  # type: ignore[override]
        calls = BOT_API_CALLS.get(None)
        if calls is not None and request_data is not None:
            calls.append((url.rsplit("/", 1)[-1], request_data.parameters))
        return await super().do_request(url, method, request_data, *args, **kwargs)


Script = list[tuple[str, dict[str, Any], list[tuple[str, dict[str, Any]]]]]
"""Per update: its step, the update as sent, and the Bot API calls the bot made for it."""


class Resident:
    """One person talking to the bot, who reads the replies they were shown and taps buttons
    on them (without scanning the whole stand-in, which would time the harness, not the bot)."""

    def __init__(
        self,
        application: Any,
        api: LocalBotApi,
        user_id: int,
        name: str,
        rng: random.Random,
        timings: Timings,
    ) -> None:
        self.user = LocalUser(application, api, user_id, name)
        self.api = api
        self.rng = rng
        self.timings = timings
        self.seen: dict[int, Shown] = {}  # message id → how it looks now
        self.updates = 0
        self.outcome = ""
        self.script: Script = []

    async def deliver(
        self,
        step: str,
        payload: dict[str, Any],
        calls: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> list[Shown]:
        """One update, timed; it and its Bot API calls (noted by the Cuppa run's stand-in, or
        given to the floor run's application to make) go in the script."""
        CURRENT_STEP[0] = step
        calls = [] if calls is None else calls
        token = BOT_API_CALLS.set(calls)
        try:
            started = time.perf_counter()
            replies = await self.user.deliver(payload)
            self.timings.add(step, time.perf_counter() - started)
        finally:
            BOT_API_CALLS.reset(token)
        self.script.append((step, payload, calls))
        self.updates += 1
        for shown in replies:
            self.seen[shown.message_id] = shown
        if not replies:
            raise StepFailed(f"{step}: no reply")
        return replies

    async def send(self, step: str, text: str) -> Shown:
        replies = await self.deliver(step, self.user.typed(text))
        return replies[-1]

    def find(self, wanted: Callable[[str, str], bool]) -> tuple[Shown, str] | None:
        for shown in reversed(self.seen.values()):
            for label, data in shown.all_buttons():
                if data is not None and wanted(label, data):
                    return shown, data
        return None

    async def tap(self, step: str, wanted: Callable[[str, str], bool] | str) -> Shown:
        match = wanted if callable(wanted) else (lambda label, _data: label == wanted)
        found = self.find(match)
        if found is None:
            last = list(self.seen.values())[-1].text[:200] if self.seen else ""
            raise StepFailed(f"{step}: no button {wanted!r} on screen; last: {last!r}")
        shown, data = found
        query = {
            "id": str(next(_query_ids)),
            "from": self.user.user,
            "chat_instance": str(self.user.user_id),
            "data": data,
            "message": self.api.message_json(shown),
        }
        replies = await self.deliver(step, {"callback_query": query})
        return replies[-1]

    async def onboard(self) -> None:
        """A newcomer: the privacy notice, an area, a library, in person or online."""
        await self.send("/start", "/start")
        shown = await self.tap("consent", "Yes, that's fine")
        areas = [
            label
            for label, data in shown.all_buttons()
            if data is not None and data.startswith("on:a:")
        ]
        shown = await self.tap("area", self.rng.choice(areas))
        homes = [
            label
            for label, data in shown.all_buttons()
            if data is not None and data.startswith("on:l:")
        ]
        await self.tap("library", self.rng.choice(homes))
        await self.tap("preference", self.rng.choice(["In person", "Online", "Both", "Both"]))

    async def returning(self) -> None:
        shown = await self.send("/start", "/start")
        if not shown.text.startswith("Hello, Resident"):
            raise StepFailed(f"/start: a known resident got {shown.text[:80]!r}")

    async def find_and_book(self) -> None:
        rng = self.rng
        shown = await self.send("/sessions", "/sessions")
        kinds = [label for label, data in shown.all_buttons() if data and data.startswith("ss:")]
        shown = await self.tap("kind", rng.choice(kinds))
        shown = await self.tap("place", self._place_choice(shown))
        shown = await self.tap("day", self._weighted(DAY_CHOICES))
        if shown.text.startswith("I couldn't find"):
            await self.tap("change", "Change place")
            shown = await self.tap("place", "Anywhere in Norfolk")
            if shown.text.startswith("When would you like"):
                shown = await self.tap("day", "Any day")
        if "Later ▶" in shown.labels() and rng.random() < 0.2:
            shown = await self.tap("page", "Later ▶")
        listed = [label for label, data in shown.all_buttons() if data and data.startswith("sv:")]
        if not listed:
            raise StepFailed(f"list: nothing listed: {shown.text[:120]!r}")
        shown = await self.tap("open", rng.choice(listed))
        labels = shown.labels()
        if "Book a place" in labels:
            shown = await self.tap("book", "Book a place")
        elif "Join the waiting list" in labels:
            shown = await self.tap("book", "Join the waiting list")
        else:
            raise StepFailed(f"open: no booking button: {shown.text[:120]!r}")
        self.outcome = shown.text.split("\n", 1)[0]
        shown = await self.send("/mybookings", "/mybookings")
        if not shown.text.startswith("Your bookings:"):
            raise StepFailed(f"/mybookings: {shown.text[:120]!r} after {self.outcome!r}")

    def _place_choice(self, shown: Shown) -> Callable[[str, str], bool]:
        """Their own library half the time (if they have one), else online or anywhere."""
        labels = shown.labels()
        home = next((label for label in labels if label.startswith("At ")), None)
        roll = self.rng.random()
        if home is not None and roll < 0.5:
            wanted = home
        elif roll < 0.7:
            wanted = "Online"
        else:
            wanted = "Anywhere in Norfolk"
        return lambda label, _data: label == wanted

    def _weighted(self, choices: Sequence[tuple[str, float]]) -> str:
        labels, weights = zip(*choices, strict=True)
        return self.rng.choices(labels, weights)[0]


DAY_CHOICES = [("Any day", 0.5), ("This week", 0.25), ("Next week", 0.15), ("Today", 0.1)]


class CuppaResident(Resident):
    async def converse(self, newcomer: bool) -> None:
        if newcomer:
            await self.onboard()
        else:
            await self.returning()
        await self.find_and_book()


# the two workloads -----------------------------------------------------


def services_for(url: str) -> Services:
    config = load_config(env={})
    return build_services(config.replace(database=DatabaseConfig(url=url)))


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def plan_conversations(
    sizes: Sequence[int], new_bases: Sequence[int], known: int, rng: random.Random
) -> list[list[tuple[int, bool]]]:
    """(Telegram id, newcomer?) for each simulated resident of each run: half new, half among
    the residents already in the database (no one in two runs)."""
    wanted = sum(size // 2 for size in sizes)
    known_ids = iter(rng.sample(range(known), min(wanted, known)))
    plans = []
    for size, base in zip(sizes, new_bases, strict=True):
        plan = [(KNOWN_IDS + n, False) for n in itertools.islice(known_ids, size // 2)]
        plan += [(base + n, True) for n in range(size - len(plan))]
        rng.shuffle(plan)
        plans.append(plan)
    return plans


async def cuppa_run(
    application: Any,
    api: LocalBotApi,
    plan: Sequence[tuple[int, bool]],
    concurrency: int,
    seed: int,
    profiler: cProfile.Profile | None = None,
) -> tuple[RunResult, list[Resident]]:
    timings = Timings()
    residents = [
        CuppaResident(application, api, user_id, f"Person{user_id % 100000}", rng, timings)
        for user_id, rng in ((uid, random.Random(seed * 1_000_003 + uid)) for uid, _ in plan)
    ]
    jobs = [
        (lambda r=resident, new=newcomer: r.converse(new))
        for resident, (_, newcomer) in zip(residents, plan, strict=True)
    ]
    gc.collect()
    if profiler:
        profiler.enable()
    seconds = await run_pool(jobs, concurrency)
    if profiler:
        profiler.disable()
    updates = sum(resident.updates for resident in residents)
    return RunResult("", updates, seconds, timings), residents


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(update.message.text)  # type: ignore[union-attr]


def bare_application(api: LocalBotApi, handler: Any) -> Any:
    """A python-telegram-bot `Application` on this stand-in with this one handler."""
    application = (
        Application.builder().token(LOCAL_TOKEN).request(api).get_updates_request(api).build()
    )
    application.add_handler(handler)
    return application


async def echo_run(
    application: Any,
    api: LocalBotApi,
    counts: Sequence[int],
    concurrency: int,
    base_id: int,
) -> RunResult:
    """The same number of updates per person as the Cuppa run, each a text echoed back."""
    timings = Timings()
    rng = random.Random(0)
    people = [
        Resident(application, api, base_id + n, f"Echo{n}", rng, timings)
        for n in range(len(counts))
    ]

    async def talk(person: Resident, count: int) -> None:
        for n in range(count):
            await person.send("echo", f"Hello number {n}")

    jobs = [
        (lambda p=person, c=count: talk(p, c)) for person, count in zip(people, counts, strict=True)
    ]
    gc.collect()
    seconds = await run_pool(jobs, concurrency)
    return RunResult("", sum(counts), seconds, timings)


class FloorBotApi(LocalBotApi):
    """The floor run's stand-in: it edits whatever message it is asked to (the replayed edits
    name messages that the Cuppa run's stand-in holds)."""

    def _find(self, params: dict[str, Any]) -> Shown:
        return Shown(int(params.get("message_id", 0)), int(params.get("chat_id", 0)), "")


async def make_the_same_calls(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    for method, params in BOT_API_CALLS.get():
        await getattr(context.bot, method)(**params)


def with_keyboards(calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The recorded calls with their inline keyboards as python-telegram-bot objects again, as
    a handler passes them (built before the floor run: building them is the bot's work)."""
    return [
        (
            method,
            {
                name: InlineKeyboardMarkup.de_json(value, None)
                if name == "reply_markup" and "inline_keyboard" in value
                else value
                for name, value in params.items()
            },
        )
        for method, params in calls
    ]


async def floor_run(
    application: Any, api: LocalBotApi, residents: Sequence[Resident], concurrency: int
) -> RunResult:
    """The Telegram floor: each update of the Cuppa run sent again, in the same order and as
    many at a time, to a bare application that makes the same Bot API calls Cuppa made for it
    (the same texts and keyboards) and nothing else: no database, no logic. No bot making
    these calls through python-telegram-bot can be faster."""
    timings = Timings()
    people = [
        (
            Resident(application, api, resident.user.user_id, "", resident.rng, timings),
            [(step, payload, with_keyboards(calls)) for step, payload, calls in resident.script],
        )
        for resident in residents
    ]

    async def replay(person: Resident, script: Script) -> None:
        for step, payload, calls in script:
            await person.deliver(step, payload, calls)

    jobs = [(lambda p=person, s=script: replay(p, s)) for person, script in people]
    gc.collect()
    seconds = await run_pool(jobs, concurrency)
    return RunResult("", sum(person.updates for person, _ in people), seconds, timings)


def merge(results: Sequence[RunResult], name: str) -> RunResult:
    timings = Timings()
    for result in results:
        for step, times in result.timings.by_step.items():
            for seconds in times:
                timings.add(step, seconds)
    updates = sum(result.updates for result in results)
    return RunResult(name, updates, sum(result.seconds for result in results), timings)


@dataclass
class Bots:
    """The applications measured side by side, each on a stand-in of its own."""

    cuppa: Any
    cuppa_api: LocalBotApi
    floor: Any
    floor_api: LocalBotApi
    echo: Any
    echo_api: LocalBotApi

    @classmethod
    def build(cls, services: Services) -> Bots:
        cuppa_api, floor_api, echo_api = RecordingBotApi(), FloorBotApi(), LocalBotApi()
        return cls(
            build_application(services, request=cuppa_api),
            cuppa_api,
            bare_application(floor_api, TypeHandler(Update, make_the_same_calls)),
            floor_api,
            bare_application(echo_api, MessageHandler(filters.TEXT, echo)),
            echo_api,
        )

    @property
    def applications(self) -> tuple[Any, ...]:
        return self.cuppa, self.floor, self.echo


@dataclass
class Measured:
    cuppa: RunResult
    floor: RunResult
    echo: RunResult
    residents: list[Resident]


async def measure(
    bots: Bots,
    plan: Sequence[tuple[int, bool]],
    concurrency: int,
    rounds: int,
    seed: int,
    profiler: cProfile.Profile | None,
) -> Measured:
    """The Cuppa run, the floor run and the echo run in alternating rounds (so a change in the
    machine's load falls on all alike), each floor and echo round the same updates per person
    as the Cuppa round before it; the rounds' times and updates are summed."""
    cuppa_rounds, floor_rounds, echo_rounds, residents = [], [], [], []
    size = -(-len(plan) // max(1, rounds))
    for number, start in enumerate(range(0, len(plan), size)):
        part, people = await cuppa_run(
            bots.cuppa, bots.cuppa_api, plan[start : start + size], concurrency, seed, profiler
        )
        cuppa_rounds.append(part)
        floor_rounds.append(await floor_run(bots.floor, bots.floor_api, people, concurrency))
        counts = [person.updates for person in people]
        base = ECHO_IDS + 100_000 * number + (50_000 if concurrency == 1 else 0)
        echo_rounds.append(await echo_run(bots.echo, bots.echo_api, counts, concurrency, base))
        residents += people
    at_a_time = "one at a time" if concurrency == 1 else f"{concurrency} at a time"
    return Measured(
        merge(cuppa_rounds, f"Cuppa ({at_a_time})"),
        merge(floor_rounds, f"Telegram floor ({at_a_time})"),
        merge(echo_rounds, f"echo bot ({at_a_time})"),
        residents,
    )


# SQL statistics ---------------------------------------------------------


class SqlStats:
    """Time per SQL statement (its text), and per step the statements, the transactions, the
    time in the driver and the time a connection was held (from the pool's checkout to its
    checkin: the driver and everything SQLAlchemy and the services do in between), from the
    engine's events."""

    def __init__(self, db: Database) -> None:
        self.totals: dict[str, list[float]] = defaultdict(list)
        self.steps: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
        self.enabled = False
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _begin(self, conn: Any) -> None:
        if self.enabled:
            self.steps[CURRENT_STEP[0]][1] += 1

    def _checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        record.info["bench_checked_out"] = time.perf_counter()

    def _checkin(self, dbapi_connection: Any, record: Any) -> None:
        started = record.info.pop("bench_checked_out", None)
        if self.enabled and started is not None:
            self.steps[CURRENT_STEP[0]][3] += time.perf_counter() - started

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seconds = time.perf_counter() - conn.info["bench_started"].pop()
        if self.enabled:
            self.totals[" ".join(statement.split())].append(seconds)
            if not statement.startswith("BEGIN"):
                self.steps[CURRENT_STEP[0]][0] += 1
            self.steps[CURRENT_STEP[0]][2] += seconds

    def print_steps(self, result: RunResult) -> None:
        print(f"    SQL per update, by step ({result.name}):")
        print(
            f"    {'step':<12} {'statements':>10} {'transactions':>12} {'driver ms':>9}"
            f" {'connection held ms':>18}"
        )
        for step, times in sorted(result.timings.by_step.items(), key=lambda item: item[0]):
            statements, transactions, seconds, held = self.steps.get(step, [0, 0, 0.0, 0.0])
            print(
                f"    {step:<12} {statements / len(times):10.1f} {transactions / len(times):12.1f}"
                f" {1000 * seconds / len(times):9.2f} {1000 * held / len(times):18.2f}"
            )
        held = sum(step[3] for step in self.steps.values())
        print(
            f"    a connection held, an update: {1e6 * held / result.updates:.0f} µs"
            f" of the {1e6 * result.seconds / result.updates:.0f} µs Cuppa took"
        )

    def print(self, top: int = 15) -> None:
        rows = sorted(self.totals.items(), key=lambda item: -sum(item[1]))
        total = sum(sum(times) for times in self.totals.values())
        count = sum(len(times) for times in self.totals.values())
        print(f"    SQL: {count:,} statements, {total:.2f} s in the driver; the top {top}:")
        print(f"    {'total s':>8} {'count':>6} {'mean ms':>8} {'max ms':>8}  statement")
        for statement, times in rows[:top]:
            shown = statement if len(statement) <= 160 else statement[:157] + "..."
            print(
                f"    {sum(times):8.3f} {len(times):6d} {1000 * sum(times) / len(times):8.2f}"
                f" {1000 * max(times):8.2f}  {shown}"
            )


# the report ------------------------------------------------------------


def print_run(result: RunResult) -> None:
    print(
        f"    {result.name:<34}: {result.rate:8,.0f} updates/s ({result.updates:,} updates in"
        f" {result.seconds:.2f} s); p50 {result.p50_ms:6.2f} ms, p95 {result.p95_ms:6.2f} ms"
    )


def print_runs(measured: Measured) -> None:
    """The three runs, and what the floor says: how near python-telegram-bot alone would come
    to the echo bot with Cuppa's replies, and what Cuppa's own work (the database, the logic,
    building the messages) adds to each update."""
    for result in (measured.cuppa, measured.floor, measured.echo):
        print_run(result)
    floor, echo = measured.floor, measured.echo
    own_us = 1e6 / measured.cuppa.rate - 1e6 / floor.rate
    print(
        f"    ratio floor/echo (updates/s)      : {floor.rate / echo.rate:8.3f}"
        f"  (the most a bot sending Cuppa's replies through python-telegram-bot can reach)"
    )
    print(
        f"    Cuppa's own work an update        : {own_us:8.0f} µs"
        f" (its time less the floor's: {1e6 / measured.cuppa.rate:.0f} − {1e6 / floor.rate:.0f})"
    )


def print_steps(result: RunResult) -> None:
    print(f"    per step ({result.name}):")
    print(f"    {'step':<12} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'share of time':>14}")
    total = sum(result.timings.times)
    for step, times in sorted(result.timings.by_step.items(), key=lambda item: -sum(item[1])):
        print(
            f"    {step:<12} {len(times):6d} {1000 * percentile(times, 0.5):8.2f}"
            f" {1000 * percentile(times, 0.95):8.2f} {sum(times) / total:13.1%}"
        )


async def count_new_bookings(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Booking.status, func.count())
            .join(Person, Person.id == Booking.person_id)
            .where(Person.telegram_id >= NEW_IDS, Person.telegram_id < WARM_IDS)
            .group_by(Booking.status)
        )
        return {status: int(count) for status, count in rows}


def load_average() -> str:
    """Other work on the machine skews every figure: say how busy it was."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} (1 min) {five:.1f} (5 min)"


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    backend = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(f"load benchmark on {backend}, Python {sys.version.split()[0]}, {load_average()}")
    ok = True
    async with scratch_database(args.database_url, "load") as url:
        services = services_for(url)
        db = services.db
        filled = await fill(db, args, services.clock(), services.config.tz)
        print(
            f"    filled in {filled.seconds:.1f} s: {filled.libraries} libraries,"
            f" {filled.activities} activities, {filled.sessions:,} sessions,"
            f" {filled.residents:,} residents, {filled.bookings:,} bookings"
            f" ({filled.waiting:,} waiting)"
        )
        rng = random.Random(args.seed)
        plan, warm_plan, solo_plan = plan_conversations(
            [args.conversations, args.warmup, args.solo],
            [NEW_IDS, WARM_IDS, WARM_IDS + 1_000_000],
            args.residents,
            rng,
        )
        sql = SqlStats(db) if args.sql_stats else None

        bots = Bots.build(services)
        for application in bots.applications:
            await application.initialize()
        try:
            # Warm all up (imports, caches, connection pools) before anything is timed.
            await measure(bots, warm_plan, args.concurrency, 1, args.seed, None)
            freeze_start_up_objects()  # the filled data and warm-up: not rescanned when timing

            profiler = cProfile.Profile() if args.profile else None
            crowd = await measure(bots, plan, args.concurrency, args.rounds, args.seed, profiler)
            solo = None
            if args.solo:
                if sql:  # one at a time, so each statement's time is its own
                    sql.enabled = True
                solo = await measure(bots, solo_plan, 1, 1, args.seed + 1, None)
                if sql:
                    sql.enabled = False
        finally:
            gc.unfreeze()
            for application in bots.applications:
                await application.shutdown()

        made = await count_new_bookings(db)
        await db.dispose()

    outcomes: dict[str, int] = defaultdict(int)
    for resident in crowd.residents:
        outcomes[resident.outcome.split("!")[0].split(",")[0][:40]] += 1
    newcomers = sum(1 for _, new in plan if new)
    print(
        f"    {len(plan)} residents ({newcomers} new, {len(plan) - newcomers} returning),"
        f" {args.concurrency} at a time; bookings by newcomers in the database: {dict(made)}"
    )
    print(f"    outcomes: {dict(outcomes)}; at the end, {load_average()}")
    cuppa = crowd.cuppa
    print_runs(crowd)
    ratio = cuppa.rate / crowd.echo.rate
    verdict = "ok" if ratio >= RATIO_TARGET else "BELOW TARGET"
    print(
        f"    ratio Cuppa/echo (updates/s)      : {ratio:8.3f}"
        f"  (target >= {RATIO_TARGET}: {verdict})"
    )
    ok = ok and ratio >= RATIO_TARGET
    if args.database_url is None:
        good = cuppa.p95_ms < P95_TARGET_MS
        verdict = "ok" if good else "OVER TARGET"
        print(
            f"    Cuppa p95 on SQLite               : {cuppa.p95_ms:8.2f} ms"
            f" (target < {P95_TARGET_MS:g} ms: {verdict})"
        )
        ok = ok and good
    if solo:
        print_runs(solo)
        if args.database_url is None:
            # (not the target's verdict: the figure without queueing behind other residents)
            mark = "under" if solo.cuppa.p95_ms < P95_TARGET_MS else "over"
            print(
                f"    Cuppa p95 one at a time           : {solo.cuppa.p95_ms:8.2f} ms"
                f" ({mark} {P95_TARGET_MS:g} ms)"
            )
    print_steps(cuppa)
    if solo:
        print_steps(solo.cuppa)
    if errors.messages:
        print(f"    {len(errors.messages)} errors logged, e.g. {errors.messages[0]!r}")
        ok = False
    if sql:
        if solo:
            sql.print_steps(solo.cuppa)
        sql.print()
    if profiler and args.profile:
        profiler.dump_stats(args.profile)
        print(f"    profile of the Cuppa run written to {args.profile}; by own time:")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(20)
    return 0 if ok else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+asyncpg://...)")
    parser.add_argument("--residents", type=int, default=20_000, help="people in the database")
    parser.add_argument("--sessions", type=int, default=50_000, help="upcoming sessions")
    parser.add_argument("--bookings", type=int, default=40_000, help="existing bookings")
    parser.add_argument(
        "--conversations", type=int, default=500, help="simulated residents in the timed run"
    )
    parser.add_argument("--concurrency", type=int, default=20, help="residents at a time")
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternate Cuppa and echo in this many rounds"
    )
    parser.add_argument("--warmup", type=int, default=20, help="untimed conversations first")
    parser.add_argument(
        "--solo", type=int, default=40, help="conversations one at a time, after (0: none)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", help="write a cProfile of the Cuppa run here")
    parser.add_argument(
        "--sql-stats",
        action="store_true",
        help="time every SQL statement in the one-at-a-time Cuppa run",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
