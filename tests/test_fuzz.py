"""Property-based fuzzing: random commands, texts, locations and button data (valid, stale and
forged) from several people at once, through the real Application and the local Bot API stand-in.

After every step: no handler crashed, every update got a reply, no session is overbooked, and
nobody was shown a join link they have not booked or someone else's phone number.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.config import Config
from bot.core import build_services
from bot.db.database import Database
from bot.db.models import Booking, LibrarySession, Person
from bot.telegram.application import build_application
from bot.telegram.local_api import LocalBotApi
from bot.telegram.local_chat import LocalUser
from tests.conftest import STAFF_ID, FakeClock, emptied
from tests.world import build_world

READER_PHONE = "01362 698421"
COMMANDS = [
    "/start",
    "/sessions",
    "/mybookings",
    "/help",
    "/privacy",
    "/cancel",
    "/readingfriends",
    "/volunteer",
    "/staff",
    "/broadcast",
    "/mydata",
    "/forgetme",
    "/nonsense",
    "/",
]
WORDS = [
    "tea",
    "knitting",
    "Dereham",
    "norwich",
    "help",
    "yes",
    "no",
    "cancel",
    "reading",
    "volunteer",
    "03/12/2026",
    "10:30",
    "12",
    "https://meet.example.org/x",
    "Edna",
    "07400 123456",
    "I feel so alone",
    "",
    "👵🏽\u202e",
    "x" * 4096,
]
PREFIXES = [
    "bk",
    "cx",
    "cy",
    "ic",
    "sv",
    "ss",
    "on:l",
    "on:y",
    "oa",
    "od",
    "va",
    "vr",
    "rc",
    "rx",
    "lg:d",
    "lg:w",
    "sx",
    "sa",
    "sn",
    "sf",
    "bc",
    "rf",
    "vo",
    "fo",
    "pf",
    "rm",
]

step = st.one_of(
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("text"), st.one_of(st.sampled_from(WORDS), st.text(max_size=60))),
    st.tuples(st.just("press"), st.integers(0, 40)),
    st.tuples(st.just("stale"), st.integers(0, 400)),
    st.tuples(
        st.just("forged"),
        st.one_of(
            st.builds(lambda p, n: f"{p}:{n}", st.sampled_from(PREFIXES), st.integers(0, 99)),
            st.text(min_size=1, max_size=30),
        ),
    ),
    st.tuples(st.just("location"), st.tuples(st.floats(52.3, 53.0), st.floats(0.1, 1.8))),
)
program = st.lists(st.tuples(st.integers(0, 2), step), min_size=5, max_size=30)


@dataclass
class Run:
    database: Database
    api: LocalBotApi
    people: list[LocalUser]
    links: dict[str, int]


class CrashWatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.crashes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.crashes.append(record.getMessage())


async def fresh_database(url: str, template: Path | None) -> Database:
    if template is not None:
        path = Path(url.removeprefix("sqlite+aiosqlite:///"))
        shutil.copy(template, path)
    return await emptied(Database(url))


async def act(run: Run, who: int, action: tuple[str, object]) -> list[object]:
    """Do one step; what the person was shown (a tap that re-shows the same screen counts)."""
    person = run.people[who]
    before = len(run.api.calls)
    shown = await perform(person, action)
    if shown:
        return shown
    return [
        call
        for call in run.api.calls[before:]
        if call.method.startswith("editMessage") and call.params.get("chat_id") == person.user_id
    ]


async def perform(person: LocalUser, action: tuple[str, object]) -> list[object]:
    kind, value = action
    if kind == "command":
        return await person.send(str(value))
    if kind == "text":
        return await person.send(str(value) or " ")
    if kind == "location":
        latitude, longitude = value  # type: ignore[misc]
        return await person.share_location(latitude, longitude)
    screen = person.screen()
    buttons = [(data, shown) for shown in screen for _, data in shown.all_buttons() if data]
    if kind == "press" and screen and screen[-1].all_buttons():
        latest = [data for _, data in screen[-1].all_buttons() if data]
        return await person.press_data(latest[int(value) % len(latest)], screen[-1])  # type: ignore[call-overload]
    if kind == "stale" and buttons:
        data, shown = buttons[int(value) % len(buttons)]  # type: ignore[call-overload]
        return await person.press_data(data, shown)
    return await person.press_data(str(value) if kind == "forged" else "zz")


async def check(run: Run, replies: list[object], watcher: CrashWatcher) -> None:
    assert not watcher.crashes, watcher.crashes
    assert replies, "every update gets a reply"
    async with run.database.transaction() as session:
        overbooked = await session.scalar(
            select(func.count())
            .select_from(LibrarySession)
            .where(
                LibrarySession.capacity
                < select(func.count())
                .where(Booking.session_id == LibrarySession.id, Booking.status == "booked")
                .scalar_subquery()
            )
        )
        assert overbooked == 0
        for person in run.people:
            booked = set(
                await session.scalars(
                    select(Booking.session_id)
                    .join(Person, Person.id == Booking.person_id)
                    .where(Booking.status == "booked", Person.telegram_id == person.user_id)
                )
            )
            for shown in person.screen():
                for link, session_id in run.links.items():
                    if link in shown.text:
                        assert session_id in booked, f"{person.user_id} saw a link not booked"
                assert "698421" not in shown.text, "a reader's number reached a stranger"


async def play(
    url: str, template: Path | None, steps: list[tuple[int, tuple[str, object]]]
) -> None:
    database = await fresh_database(url, template)
    clock = FakeClock()
    config = Config().replace(
        database=Config().database.__class__(url=url),
        staff=Config().staff.__class__(telegram_ids=(STAFF_ID,)),
        reading_friends=Config().reading_friends.__class__(
            phone_key="m0dGbDQ3UVNzdlZjRXF2a0tJc2ZqTmJ6RlZ5dVJvRk4="
        ),
    )
    services = build_services(config, clock, database)
    world = await build_world(database, clock())
    await services.readers.register(
        first_name="Edna", phone=READER_PHONE, interests=[], needs="", staff_id=STAFF_ID
    )
    async with database.transaction() as session:
        rows = await session.scalars(select(LibrarySession).where(LibrarySession.online))
        links = {}
        for row in rows:
            row.join_link = f"https://meet.example.org/room-{row.id}-{random.randint(1000, 9999)}"
            links[row.join_link] = row.id
    api = LocalBotApi(clock=clock.monotonic)
    application = build_application(services, request=api)
    watcher = CrashWatcher()
    logging.getLogger().addHandler(watcher)
    try:
        async with application:
            people = [
                LocalUser(application, api, 7001, "Alpha"),
                LocalUser(application, api, 7002, "Bravo"),
                LocalUser(application, api, STAFF_ID, "Staff"),
            ]
            run = Run(database, api, people, links)
            del world
            for who, action in steps:
                replies = await act(run, who, action)
                await check(run, replies, watcher)
            # several people at once: the last steps again, concurrently
            together = await asyncio.gather(*(act(run, who, a) for who, a in steps[-3:]))
            for replies in together:
                await check(run, replies, watcher)
    finally:
        logging.getLogger().removeHandler(watcher)
        await database.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_random_conversations_keep_every_promise(backend, request, tmp_path):
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        url, template_path = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}", template
    else:
        url, template_path = request.getfixturevalue("postgres_url"), None

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(program)
    def explore(steps: list[tuple[int, tuple[str, object]]]) -> None:
        asyncio.run(play(url, template_path, steps))

    explore()
