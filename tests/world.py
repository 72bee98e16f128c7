"""A small Norfolk for tests: three libraries, three activities, sessions placed on purpose;
and the people in it: residents signing up and booking, volunteers, what the database holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot import actions
from bot.db.database import Database
from bot.db.models import Activity, Booking, Library, LibrarySession, OutboxMessage, Person

DEREHAM = (52.6816, 0.9380)
NORWICH = (52.6286, 1.2916)


@dataclass
class World:
    libraries: dict[str, int] = field(default_factory=dict)
    activities: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)


async def build_world(db: Database, now: datetime) -> World:
    """Dereham and two Norwich libraries; Just a Cuppa, Knit and Natter, Colour Me Calm."""
    world = World()
    async with db.transaction() as session:
        libraries = [
            Library(
                name="Dereham Library",
                town="Dereham",
                area="Breckland",
                address="59 High Street",
                postcode="NR19 1DZ",
                latitude=DEREHAM[0],
                longitude=DEREHAM[1],
                phone="01362 693184",
                accessibility="Step-free entrance; hearing loop",
            ),
            Library(
                name="Norwich Millennium Library",
                town="Norwich",
                area="Norwich",
                address="The Forum, Millennium Plain",
                postcode="NR2 1AW",
                latitude=NORWICH[0],
                longitude=NORWICH[1],
                phone="01603 774774",
                accessibility="Lift to all floors",
            ),
            Library(
                name="Mile Cross Library",
                town="Norwich",
                area="Norwich",
                address="Aylsham Road",
                postcode="NR3 2RJ",
                latitude=52.6480,
                longitude=1.2830,
                phone="01603 425644",
                accessibility="",
            ),
        ]
        activities = [
            Activity(
                name="Just a Cuppa", description="Tea and a chat", keywords="tea,cuppa,coffee"
            ),
            Activity(name="Knit and Natter", description="Knitting", keywords="knit,knitting"),
            Activity(name="Colour Me Calm", description="Colouring", keywords="colour,colouring"),
        ]
        session.add_all(libraries + activities)
        await session.flush()
        world.libraries = {
            lib.town if lib.town == "Dereham" else lib.name.split()[0]: lib.id for lib in libraries
        }
        world.activities = {a.name: a.id for a in activities}
        cuppa, knit, colour = activities
        dereham, norwich, mile_cross = libraries
        plan = {
            # name: (activity, library or None for online, hours from now, capacity)
            "dereham_cuppa": (cuppa, dereham, 25, 12),  # Wed 25 Nov 10:00
            "dereham_knit": (knit, dereham, 6, 8),  # today 15:00
            "norwich_cuppa": (cuppa, norwich, 49, 2),  # Thu 26 Nov
            "mile_cross_knit": (knit, mile_cross, 24 * 7, 10),  # next Tue
            "online_cuppa": (cuppa, None, 26, 40),  # Wed 25 Nov 11:00
            "online_colour": (colour, None, 24 * 8, 20),  # next Wed
        }
        rows = {}
        for name, (activity, library, hours, capacity) in plan.items():
            rows[name] = LibrarySession(
                activity=activity,
                library=library,
                online=library is None,
                join_link="https://meet.example.org/secret-room" if library is None else "",
                starts_at=now + timedelta(hours=hours),
                duration_minutes=60,
                capacity=capacity,
                notes="Biscuits provided" if activity is cuppa else "",
            )
        session.add_all(rows.values())
        await session.flush()
        world.sessions = {name: row.id for name, row in rows.items()}
    return world


async def count(db: Database, model: type, **where: object) -> int:
    async with db.transaction() as session:
        stmt = select(func.count()).select_from(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return int(await session.scalar(stmt) or 0)


async def snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row a resident can change, to prove that bad input changed nothing."""
    async with db.transaction() as session:
        return {
            model.__tablename__: [
                tuple(getattr(row, column.key) for column in model.__table__.columns)  # type: ignore[attr-defined]
                for row in await session.scalars(select(model).order_by(model.id))  # type: ignore[attr-defined]
            ]
            for model in (Person, Booking, LibrarySession, OutboxMessage)
        }


async def rows(source: Any, model: type, **where: object) -> list[Any]:
    """The model's rows (from a Database, or Services' database) where column == value, in id
    order."""
    db = getattr(source, "db", source)
    async with db.transaction() as session:
        order = model.id if hasattr(model, "id") else model.telegram_id  # type: ignore[attr-defined]
        stmt = select(model).order_by(order)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return list(await session.scalars(stmt))


async def resident(people: Any, user_id: int, name: str) -> Any:
    """Someone who has agreed to the notice, skipped the home library and takes both kinds."""
    person = people(user_id, name)
    await person.send("/start")
    await person.press("Yes, that's fine")
    await person.press("Skip this")
    await person.press("Both")
    return person


async def open_session(person: Any, session_id: int) -> Any:
    """Open a session's details as if tapped from a list."""
    [shown] = await person.press_data(actions.Browse("0", "a", "a").show(session_id))
    return shown


async def book(person: Any, session_id: int) -> Any:
    """Open a session and book it: what the person is shown."""
    await open_session(person, session_id)
    [shown] = await person.press_data(actions.book(session_id))
    return shown


async def person_id(services: Any, telegram_id: int) -> int:
    view = await services.people.by_telegram(telegram_id)
    assert view is not None
    return int(view.id)


async def approved_volunteer(
    services: Any,
    telegram_id: int,
    name: str,
    windows: list[Any],
    calls: int = 3,
    interests: Iterable[str] = (),
) -> int:
    """A volunteer signed up with these times and approved by staff (checks in June 2026)."""
    person = (await services.people.consent(telegram_id, name)).id
    view = await services.volunteers.register(person, windows, calls, list(interests))
    staff = services.config.staff.telegram_ids[0]
    await services.volunteers.approve(staff, view.id, date(2026, 6, 1))
    return int(view.id)


async def deliver_everything(dispatcher: Any, clock: Any) -> None:
    """Sweep the outbox until nothing is held back by the one-a-second limit per chat."""
    for _ in range(30):
        report = await dispatcher.sweep()
        if not report.deferred:
            return
        clock.advance(1.5)
    raise AssertionError("the outbox never emptied")
