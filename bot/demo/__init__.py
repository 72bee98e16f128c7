"""Demo data: Norfolk's libraries, the Healthy Libraries activities and four weeks of sessions.

Safe to load twice: libraries and activities are matched by name, and sessions are only made
for a database that has none.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, time, timedelta
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, at_local
from bot.config import Config
from bot.db.database import Database
from bot.db.models import (
    Activity,
    AvailabilityWindow,
    Library,
    LibrarySession,
    Person,
    Volunteer,
)

WEEKS = 4

ACTIVITIES = [
    (
        "Just a Cuppa",
        "Drop in for a cup of tea or coffee and a friendly chat.",
        "tea,cuppa,coffee,chat,just a cuppa",
    ),
    (
        "Knit and Natter",
        "Bring your knitting, crochet or sewing and have a natter.",
        "knit,knitting,natter,crochet,sewing",
    ),
    (
        "Colour Me Calm",
        "Relaxing adult colouring, with pencils and pages provided.",
        "colour,colouring,coloring,calm,drawing",
    ),
    (
        "Singing Group",
        "Sing well-loved songs together. No experience needed.",
        "sing,singing,choir,songs,music",
    ),
    (
        "Read My Mind",
        "Creative-writing workshops for men: stories, talk and writing.",
        "writing,read my mind,creative writing,men",
    ),
]

# (activity, weekday 0=Mon, local time, minutes, capacity) for the online programme.
ONLINE = [
    ("Just a Cuppa", 0, time(11, 0), 60, 40),
    ("Just a Cuppa", 2, time(11, 0), 60, 40),
    ("Just a Cuppa", 4, time(11, 0), 60, 40),
    ("Colour Me Calm", 1, time(14, 0), 60, 20),
    ("Read My Mind", 3, time(19, 0), 90, 12),
    ("Singing Group", 5, time(10, 30), 60, 30),
]
IN_PERSON_TIMES = [time(10, 0), time(10, 30), time(14, 0), time(14, 30)]
OTHER_ACTIVITIES = ["Knit and Natter", "Colour Me Calm", "Singing Group", "Read My Mind"]


# Approved Reading Friends volunteers: (Telegram id, first name, calls a week, interests,
# weekly windows as (weekday, start minute, end minute) in local time).
VOLUNTEERS = [
    (2001, "Sam", 3, ["stories", "history"], [(0, 600, 720), (2, 840, 1020), (4, 600, 720)]),
    (2002, "Priya", 2, ["poetry", "nature"], [(1, 570, 690), (3, 570, 690)]),
    (2003, "Tom", 4, ["sport", "news", "chat"], [(0, 840, 1020), (1, 840, 1020), (5, 600, 780)]),
    (2004, "Jean", 2, ["stories", "chat"], [(2, 600, 720), (6, 840, 960)]),
]


@dataclass(frozen=True)
class SeedReport:
    libraries: int
    activities: int
    sessions: int
    volunteers: int = 0


def read_libraries() -> list[dict[str, str]]:
    text = resources.files("bot.demo").joinpath("libraries.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


async def seed_demo(db: Database, config: Config, clock: Clock) -> SeedReport:
    """Load whatever of the demo data is missing; report how much was added."""
    async with db.transaction() as session:
        known = set(await session.scalars(select(Library.name)))
        new_libraries = [
            Library(
                name=row["name"],
                town=row["town"],
                area=row["area"],
                address=row["address"],
                postcode=row["postcode"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                phone=row["phone"],
                accessibility=row["accessibility"],
            )
            for row in read_libraries()
            if row["name"] not in known
        ]
        session.add_all(new_libraries)
        known_activities = set(await session.scalars(select(Activity.name)))
        new_activities = [
            Activity(name=name, description=description, keywords=keywords)
            for name, description, keywords in ACTIVITIES
            if name not in known_activities
        ]
        session.add_all(new_activities)
        await session.flush()
        sessions = 0
        if not await session.scalar(select(func.count()).select_from(LibrarySession)):
            sessions = await _add_sessions(session, config, clock)
        volunteers = await _add_volunteers(session, clock)
    return SeedReport(len(new_libraries), len(new_activities), sessions, volunteers)


async def _add_volunteers(session: AsyncSession, clock: Clock) -> int:
    """Approved volunteers whose checks are recent, so calls can be matched in the demo."""
    known = set(await session.scalars(select(Person.telegram_id)))
    now = clock()
    added = 0
    for telegram_id, name, calls, interests, windows in VOLUNTEERS:
        if telegram_id in known:
            continue
        person = Person(telegram_id=telegram_id, first_name=name, consented_at=now)
        session.add(person)
        await session.flush()
        volunteer = Volunteer(
            person_id=person.id,
            status="approved",
            calls_per_week=calls,
            interests=interests,
            checks_on=now.date() - timedelta(days=100),
            approved_at=now,
            created_at=now,
        )
        session.add(volunteer)
        await session.flush()
        session.add_all(
            AvailabilityWindow(
                volunteer_id=volunteer.id, weekday=day, start_minute=start, end_minute=end
            )
            for day, start, end in windows
        )
        added += 1
    return added


async def _add_sessions(session: AsyncSession, config: Config, clock: Clock) -> int:
    """Weekly sessions for the next four weeks, at the same local time each week."""
    activities = {row.name: row for row in await session.scalars(select(Activity))}
    libraries = list(await session.scalars(select(Library).order_by(Library.name)))
    now = clock()
    today = now.astimezone(config.tz).date()
    plan: list[tuple[Activity, Library | None, int, time, int, int]] = []
    for index, library in enumerate(libraries):
        plan.append(
            (activities["Just a Cuppa"], library, index % 5, IN_PERSON_TIMES[index % 4], 90, 12)
        )
        if index % 2 == 0:
            other = activities[OTHER_ACTIVITIES[index // 2 % len(OTHER_ACTIVITIES)]]
            plan.append((other, library, (index + 2) % 5, IN_PERSON_TIMES[(index + 2) % 4], 90, 10))
    for name, weekday, wall, minutes, capacity in ONLINE:
        plan.append((activities[name], None, weekday, wall, minutes, capacity))
    added = 0
    for offset in range(WEEKS * 7):
        day = today + timedelta(days=offset)
        for activity, library, weekday, wall, minutes, capacity in plan:
            starts_at = at_local(day, wall, config.tz)
            if day.weekday() != weekday or starts_at <= now:
                continue
            session.add(
                LibrarySession(
                    activity=activity,
                    library=library,
                    online=library is None,
                    join_link=_join_link(activity, day) if library is None else "",
                    starts_at=starts_at,
                    duration_minutes=minutes,
                    capacity=capacity,
                    notes="Tea, coffee and biscuits provided."
                    if activity.name == "Just a Cuppa"
                    else "",
                )
            )
            added += 1
    return added


def _join_link(activity: Activity, day: date) -> str:
    slug = activity.name.lower().replace(" ", "-")
    return f"https://meet.norfolk-libraries.example/{slug}-{day}"
