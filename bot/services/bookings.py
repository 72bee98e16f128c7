"""Booking a place, the waiting list, and cancelling: never a double booking, never overbooked.

Each use case locks the session's row first (`FOR UPDATE` on PostgreSQL; SQLite transactions
are already one at a time), so "count the places, then take one" cannot interleave; the unique
index on live bookings refuses a double booking even if a bug let two through.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import actions
from bot.clock import Clock
from bot.config import Config
from bot.db.database import Database
from bot.db.models import Booking, LibrarySession, Person
from bot.services.catalogue import session_views, with_details
from bot.services.outbox import enqueue
from bot.services.reminders import Reminders
from bot.services.views import BookingView, Button, SessionView
from bot.wording import booking_text

LIVE = ("booked", "waiting")


@dataclass(frozen=True)
class BookingOutcome:
    """What happened: "booked", "waiting", "already" (they had one), "gone" or "started"."""

    result: str
    booking: BookingView | None = None
    session: SessionView | None = None


async def booking_views(session: AsyncSession, bookings: list[Booking]) -> list[BookingView]:
    """Views of bookings with their sessions, waiting positions and (if booked) join links."""
    rows = {
        row.id: row
        for row in await session.scalars(
            with_details(select(LibrarySession)).where(
                LibrarySession.id.in_({booking.session_id for booking in bookings})
            )
        )
    }
    views = {view.id: view for view in await session_views(session, rows.values())}
    result = []
    for booking in bookings:
        position = None
        if booking.status == "waiting":
            position = await waiting_position(session, booking)
        row = rows[booking.session_id]
        link = row.join_link if booking.status == "booked" and row.online else None
        result.append(
            BookingView(booking.id, booking.status, views[row.id], position, link or None)
        )
    return result


async def waiting_position(session: AsyncSession, booking: Booking) -> int:
    ahead = await session.scalar(
        select(func.count()).where(
            Booking.session_id == booking.session_id,
            Booking.status == "waiting",
            or_(
                Booking.created_at < booking.created_at,
                and_(Booking.created_at == booking.created_at, Booking.id < booking.id),
            ),
        )
    )
    return int(ahead or 0) + 1


async def lock_session(session: AsyncSession, session_id: int) -> LibrarySession | None:
    return await session.scalar(
        select(LibrarySession).where(LibrarySession.id == session_id).with_for_update()
    )


async def count_booked(session: AsyncSession, session_id: int) -> int:
    booked = await session.scalar(
        select(func.count()).where(Booking.session_id == session_id, Booking.status == "booked")
    )
    return int(booked or 0)


class Bookings:
    def __init__(self, db: Database, config: Config, clock: Clock, reminders: Reminders) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._reminders = reminders

    async def request_place(self, person_id: int, session_id: int) -> BookingOutcome:
        """Book a place if one is free, otherwise join the waiting list."""
        async with self._db.transaction() as session:
            target = await lock_session(session, session_id)
            if target is None or target.status != "scheduled":
                return BookingOutcome("gone")
            if target.starts_at <= self._clock():
                return BookingOutcome("started")
            existing = await session.scalar(
                select(Booking).where(
                    Booking.session_id == session_id,
                    Booking.person_id == person_id,
                    Booking.status.in_(LIVE),
                )
            )
            if existing is None:
                person = await session.get(Person, person_id)
                if person is None:
                    return BookingOutcome("gone")
                full = await count_booked(session, session_id) >= target.capacity
                existing = Booking(
                    session_id=session_id,
                    person_id=person_id,
                    person_key=person.key,
                    status="waiting" if full else "booked",
                    was_waitlisted=full,
                    created_at=self._clock(),
                )
                session.add(existing)
                await session.flush()
                result = existing.status
            else:
                result = "already"
            [view] = await booking_views(session, [existing])
            if result == "booked":
                await self._reminders.plan(session, [view], self._clock())
            return BookingOutcome(result, view, view.session)

    async def cancel(self, person_id: int, booking_id: int) -> BookingOutcome:
        """Give up a place or a waiting-list place; the next person waiting gets the place."""
        async with self._db.transaction() as session:
            booking = await session.get(Booking, booking_id)
            if booking is None or booking.person_id != person_id:
                return BookingOutcome("gone")
            target = await lock_session(session, booking.session_id)
            await session.refresh(booking)
            if booking.status not in LIVE or target is None:
                return BookingOutcome("gone")
            if target.starts_at <= self._clock():
                return BookingOutcome("started")
            booking.status = "cancelled"
            await session.flush()
            await self._reminders.drop(session, [booking.id])
            await self.fill_from_waiting_list(session, target)
            [view] = await booking_views(session, [booking])
            return BookingOutcome("cancelled", view, view.session)

    async def fill_from_waiting_list(self, session: AsyncSession, target: LibrarySession) -> None:
        """Give free places to the people waiting longest, and tell each of them."""
        free = target.capacity - await count_booked(session, target.id)
        if free <= 0 or target.status != "scheduled":
            return
        waiting = list(
            await session.scalars(
                select(Booking)
                .where(Booking.session_id == target.id, Booking.status == "waiting")
                .order_by(Booking.created_at, Booking.id)
                .limit(free)
                .options(selectinload(Booking.person))
            )
        )
        for booking in waiting:
            booking.status = "booked"
        await session.flush()
        views = await booking_views(session, waiting)
        for booking, view in zip(waiting, views, strict=True):
            self._tell_promoted(session, booking.person, view)
        await self._reminders.plan(session, views, self._clock())

    def _tell_promoted(self, session: AsyncSession, person: Person, view: BookingView) -> None:
        text = (
            f"Good news{', ' + person.first_name if person.first_name else ''}! "
            "A place has come up and it's yours:\n\n"
            f"{booking_text(view, self._config.tz)}\n\n"
            "If you can't come after all, please cancel so someone else can have it."
        )
        keyboard = [
            [Button("Add to calendar", actions.calendar(view.id))],
            [Button("My bookings", actions.MY_BOOKINGS)],
        ]
        enqueue(
            session,
            person,
            kind="waitlist_place",
            text=text,
            now=self._clock(),
            keyboard=keyboard,
            booking_id=view.id,
        )

    async def upcoming(self, person_id: int) -> list[BookingView]:
        """The person's live bookings for sessions not yet started, soonest first."""
        async with self._db.transaction() as session:
            return await self._upcoming(session, person_id)

    async def _upcoming(self, session: AsyncSession, person_id: int) -> list[BookingView]:
        # The person's bookings first, each session then looked up by its id. (As a join,
        # SQLite without table statistics walked every upcoming session instead.)
        upcoming = (
            select(LibrarySession.id)
            .where(
                LibrarySession.id == Booking.session_id,
                LibrarySession.status == "scheduled",
                LibrarySession.starts_at > self._clock(),
            )
            .exists()
        )
        starts_at = (
            select(LibrarySession.starts_at)
            .where(LibrarySession.id == Booking.session_id)
            .scalar_subquery()
        )
        bookings = list(
            await session.scalars(
                select(Booking)
                .where(Booking.person_id == person_id, Booking.status.in_(LIVE), upcoming)
                .order_by(starts_at, Booking.id)
            )
        )
        return await booking_views(session, bookings) if bookings else []

    async def set_reminders(self, person_id: int, offsets: tuple[int, ...] | None) -> bool:
        """Change when this person is reminded (None: the default) and redo their reminders."""
        async with self._db.transaction() as session:
            person = await session.get(Person, person_id)
            if person is None:
                return False
            person.reminder_offsets = list(offsets) if offsets is not None else None
            await session.flush()
            await self._reminders.plan(
                session, await self._upcoming(session, person_id), self._clock()
            )
            return True

    async def get_own(self, person_id: int, booking_id: int) -> BookingView | None:
        """One of the person's own live bookings; None for anyone else's or a cancelled one."""
        async with self._db.transaction() as session:
            booking = await session.get(Booking, booking_id)
            if booking is None or booking.person_id != person_id or booking.status not in LIVE:
                return None
            [view] = await booking_views(session, [booking])
            return view
