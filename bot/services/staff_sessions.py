"""Staff making, changing and cancelling sessions, one-off or weekly, and taking attendance.

Every change tells each booked and waiting person what changed, in one message, and moves their
reminders, all in the transaction that makes the change; each action is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import actions
from bot.clock import Clock, at_local, format_when
from bot.config import Config
from bot.db.database import Database
from bot.db.models import Activity, Booking, Library, LibrarySession, Person, SessionSeries
from bot.services.audit import record
from bot.services.bookings import LIVE, Bookings, booking_views, lock_session
from bot.services.catalogue import session_views, with_details
from bot.services.outbox import enqueue
from bot.services.reminders import Reminders
from bot.services.views import BookingView, Button, SessionView
from bot.wording import place_line

MAX_CAPACITY = 500
MAX_NOTES = 500
MAX_LINK = 300
ATTENDANCE = ("attended", "no_show")


class PlanError(ValueError):
    """A session plan staff must correct; the message says what, in plain words."""


@dataclass(frozen=True)
class SessionPlan:
    """What staff give to make a session. `library_id` None means online."""

    activity_id: int
    library_id: int | None
    day: date
    start: time
    duration_minutes: int = 60
    capacity: int = 12
    join_link: str = ""
    notes: str = ""
    weekly: bool = False
    last_day: date | None = None

    @property
    def online(self) -> bool:
        return self.library_id is None


@dataclass(frozen=True)
class Attendee:
    booking_id: int
    first_name: str
    status: str
    attendance: str | None


@dataclass(frozen=True)
class ChangeOutcome:
    session: SessionView
    told: int
    changes: list[str]


def check_plan(plan: SessionPlan, now: datetime, config: Config) -> None:
    """Refuse a plan that cannot be right, saying why."""
    if not 1 <= plan.capacity <= MAX_CAPACITY:
        raise PlanError(f"The number of places must be between 1 and {MAX_CAPACITY}.")
    if not 15 <= plan.duration_minutes <= 8 * 60:
        raise PlanError("A session must last between 15 minutes and 8 hours.")
    if plan.online and not plan.join_link.startswith(("https://", "http://")):
        raise PlanError("An online session needs its join link (starting https://).")
    if len(plan.join_link) > MAX_LINK or len(plan.notes) > MAX_NOTES:
        raise PlanError(f"The link or the notes are too long (notes: {MAX_NOTES} characters).")
    if at_local(plan.day, plan.start, config.tz) <= now:
        raise PlanError("That time has already passed. Please choose a time in the future.")
    if plan.last_day is not None and plan.last_day < plan.day:
        raise PlanError("A weekly session can't end before it starts.")


class SessionAdmin:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        bookings: Bookings,
        reminders: Reminders,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._bookings = bookings
        self._reminders = reminders

    # making sessions
    async def create(self, staff_id: int, plan: SessionPlan) -> SessionView:
        """Make a one-off session, or a weekly one with its sittings made ahead."""
        async with self._db.transaction() as session:
            first = await self.add_plan(session, staff_id, plan)
            return (await session_views(session, await self._load(session, [first.id])))[0]

    async def add_plan(
        self, session: AsyncSession, staff_id: int, plan: SessionPlan
    ) -> LibrarySession:
        """Add a plan inside the caller's transaction (the CSV import adds many in one)."""
        now = self._clock()
        check_plan(plan, now, self._config)
        if await session.get(Activity, plan.activity_id) is None:
            raise PlanError("That activity doesn't exist.")
        if plan.library_id is not None and await session.get(Library, plan.library_id) is None:
            raise PlanError("That library doesn't exist.")
        common = {
            "activity_id": plan.activity_id,
            "library_id": plan.library_id,
            "online": plan.online,
            "join_link": plan.join_link,
            "duration_minutes": plan.duration_minutes,
            "capacity": plan.capacity,
            "notes": plan.notes,
        }
        if not plan.weekly:
            sitting = LibrarySession(
                **common,
                starts_at=at_local(plan.day, plan.start, self._config.tz),
                announce=True,
                created_at=now,
                updated_at=now,
            )
            session.add(sitting)
            await session.flush()
            record(session, staff_id, "create session", self._describe(plan, sitting.id), now)
            return sitting
        series = SessionSeries(
            **common,
            weekday=plan.day.weekday(),
            local_time=plan.start.strftime("%H:%M"),
            first_day=plan.day,
            last_day=plan.last_day,
            created_at=now,
        )
        session.add(series)
        await session.flush()
        sittings = await self._extend(session, series, now)
        sittings[0].announce = True
        record(
            session, staff_id, "create weekly session", self._describe(plan, sittings[0].id), now
        )
        return sittings[0]

    def _describe(self, plan: SessionPlan, session_id: int) -> str:
        when = format_when(at_local(plan.day, plan.start, self._config.tz), self._config.tz)
        weekly = " weekly" if plan.weekly else ""
        return f"session {session_id}{weekly} from {when}, {plan.capacity} places"

    async def extend_series(self) -> int:
        """Make the sittings of every active weekly session up to the booking horizon."""
        now = self._clock()
        async with self._db.transaction() as session:
            series_ids = list(
                await session.scalars(select(SessionSeries.id).where(SessionSeries.active))
            )
        made = 0
        for series_id in series_ids:
            try:
                async with self._db.transaction() as session:
                    series = await session.get(SessionSeries, series_id)
                    if series is not None and series.active:
                        made += len(await self._extend(session, series, now))
            except IntegrityError:
                continue  # another process made the same sittings first
        return made

    async def _extend(
        self, session: AsyncSession, series: SessionSeries, now: datetime
    ) -> list[LibrarySession]:
        tz = self._config.tz
        today = now.astimezone(tz).date()
        # Up to the booking horizon, and always the first sitting however far ahead it is.
        last = max(today + timedelta(days=self._config.sessions.horizon_days), series.first_day)
        if series.last_day is not None:
            last = min(last, series.last_day)
        start = time.fromisoformat(series.local_time)
        existing = set(
            await session.scalars(
                select(LibrarySession.series_day).where(LibrarySession.series_id == series.id)
            )
        )
        day = max(series.first_day, today)
        day += timedelta(days=(series.weekday - day.weekday()) % 7)
        made = []
        while day <= last:
            starts_at = at_local(day, start, tz)
            if day not in existing and starts_at > now:
                sitting = LibrarySession(
                    activity_id=series.activity_id,
                    library_id=series.library_id,
                    online=series.online,
                    join_link=series.join_link,
                    starts_at=starts_at,
                    duration_minutes=series.duration_minutes,
                    capacity=series.capacity,
                    notes=series.notes,
                    series_id=series.id,
                    series_day=day,
                    created_at=now,
                    updated_at=now,
                )
                session.add(sitting)
                made.append(sitting)
            day += timedelta(days=7)
        await session.flush()
        return made

    # changing sessions
    async def change(
        self,
        staff_id: int,
        session_id: int,
        *,
        day: date | None = None,
        start: time | None = None,
        library_id: int | None = None,
        online_link: str | None = None,
        capacity: int | None = None,
        notes: str | None = None,
    ) -> ChangeOutcome | None:
        """Move (day, time, place, to or from online) or edit (places, notes) one session."""
        now = self._clock()
        tz = self._config.tz
        async with self._db.transaction() as session:
            target = await lock_session(session, session_id)
            if target is None or target.status != "scheduled" or target.starts_at <= now:
                return None
            [before] = await session_views(session, await self._load(session, [session_id]))
            old_link = target.join_link
            local = target.starts_at.astimezone(tz)
            plan = SessionPlan(
                activity_id=target.activity_id,
                library_id=target.library_id,
                day=day or local.date(),
                start=start or local.time().replace(tzinfo=None),
                duration_minutes=target.duration_minutes,
                capacity=target.capacity,
                join_link=target.join_link,
                notes=target.notes,
            )
            if library_id is not None:
                plan = replace(plan, library_id=library_id, join_link="")
            if online_link is not None:
                plan = replace(plan, library_id=None, join_link=online_link)
            if capacity is not None:
                plan = replace(plan, capacity=capacity)
            if notes is not None:
                plan = replace(plan, notes=notes)
            check_plan(plan, now, self._config)
            if plan.library_id is not None and await session.get(Library, plan.library_id) is None:
                raise PlanError("That library doesn't exist.")
            target.starts_at = at_local(plan.day, plan.start, tz)
            target.library_id, target.online = plan.library_id, plan.online
            target.join_link, target.capacity, target.notes = (
                plan.join_link,
                plan.capacity,
                plan.notes,
            )
            target.updated_at = now
            await session.flush()
            session.expire(target, ["library"])
            [after] = await session_views(session, await self._load(session, [session_id]))
            changes = describe_changes(before, after, tz, old_link != target.join_link)
            if not changes:
                return ChangeOutcome(after, 0, [])
            bookings = await self._live_bookings(session, session_id)
            promoted: list[Booking] = []
            if after.capacity > before.capacity:
                # Fill first: those given a place hear it in their own message, not twice.
                waiting = [booking for booking in bookings if booking.status == "waiting"]
                await self._bookings.fill_from_waiting_list(session, target)
                promoted = [booking for booking in waiting if booking.status == "booked"]
                bookings = [booking for booking in bookings if booking not in promoted]
            views = await booking_views(session, bookings)
            told = len(promoted) + self._tell(
                session, bookings, views, "\n".join(changes), after, now
            )
            if (
                before.starts_at != after.starts_at
                or place_line(before) != place_line(after)
                or old_link != target.join_link
            ):
                await self._reminders.plan(session, views, now)
            record(
                session,
                staff_id,
                "change session",
                f"session {session_id}: " + "; ".join(changes),
                now,
            )
            [after] = await session_views(session, await self._load(session, [session_id]))
            return ChangeOutcome(after, told, changes)

    async def cancel(self, staff_id: int, session_id: int) -> ChangeOutcome | None:
        """Cancel one sitting; everyone booked or waiting is told and their reminders go."""
        now = self._clock()
        async with self._db.transaction() as session:
            return await self._cancel(session, staff_id, session_id, now)

    async def _cancel(
        self, session: AsyncSession, staff_id: int, session_id: int, now: datetime
    ) -> ChangeOutcome | None:
        target = await lock_session(session, session_id)
        if target is None or target.status != "scheduled" or target.starts_at <= now:
            return None
        target.status = "cancelled"
        target.updated_at = now
        await session.flush()
        [view] = await session_views(session, await self._load(session, [session_id]))
        bookings = await self._live_bookings(session, session_id)
        await self._reminders.drop(session, [booking.id for booking in bookings])
        told = 0
        tz = self._config.tz
        for booking in bookings:
            text = (
                f"Sorry: {view.activity} ({place_line(view)}) on "
                f"{format_when(view.starts_at, tz)} has been cancelled. We're sorry if this "
                f"spoils your plans. If you have questions, call {self._config.service.phone}."
            )
            keyboard = [[Button("Find another session", actions.Browse().data())]]
            if enqueue(
                session,
                booking.person,
                kind="session_cancelled",
                text=text,
                keyboard=keyboard,
                now=now,
                booking_id=booking.id,
            ):
                told += 1
        record(session, staff_id, "cancel session", f"session {session_id}", now)
        return ChangeOutcome(view, told, ["cancelled"])

    async def stop_series(self, staff_id: int, session_id: int) -> int | None:
        """End a weekly session from this sitting on: future sittings are cancelled."""
        now = self._clock()
        async with self._db.transaction() as session:
            target = await session.get(LibrarySession, session_id)
            if target is None or target.series_id is None:
                return None
            series = await session.get(SessionSeries, target.series_id)
            assert series is not None
            series.active = False
            future = list(
                await session.scalars(
                    select(LibrarySession.id).where(
                        LibrarySession.series_id == series.id,
                        LibrarySession.status == "scheduled",
                        LibrarySession.starts_at > now,
                        LibrarySession.starts_at >= target.starts_at,
                    )
                )
            )
            for sitting_id in future:
                await self._cancel(session, staff_id, sitting_id, now)
            record(session, staff_id, "stop weekly session", f"series {series.id}", now)
            return len(future)

    # attendance
    async def attendees(self, session_id: int) -> list[Attendee]:
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(Booking)
                .where(Booking.session_id == session_id, Booking.status.in_(LIVE))
                .order_by(Booking.status, Booking.created_at, Booking.id)
                .options(selectinload(Booking.person))
            )
            return [
                Attendee(row.id, row.person.first_name, row.status, row.attendance) for row in rows
            ]

    async def mark_attendance(self, staff_id: int, booking_id: int, attendance: str) -> bool:
        """Record that a booked person came or did not; only once the session has begun."""
        if attendance not in ATTENDANCE:
            return False
        now = self._clock()
        async with self._db.transaction() as session:
            booking = await session.get(Booking, booking_id)
            if booking is None or booking.status != "booked":
                return False
            target = await session.get(LibrarySession, booking.session_id)
            if target is None or target.starts_at > now:
                return False
            booking.attendance = attendance
            record(session, staff_id, "attendance", f"booking {booking_id}: {attendance}", now)
            return True

    # helpers
    async def _load(self, session: AsyncSession, ids: list[int]) -> list[LibrarySession]:
        return list(
            await session.scalars(
                with_details(select(LibrarySession)).where(LibrarySession.id.in_(ids))
            )
        )

    async def _live_bookings(self, session: AsyncSession, session_id: int) -> list[Booking]:
        return list(
            await session.scalars(
                select(Booking)
                .where(Booking.session_id == session_id, Booking.status.in_(LIVE))
                .order_by(Booking.id)
                .options(selectinload(Booking.person))
            )
        )

    def _tell(
        self,
        session: AsyncSession,
        bookings: list[Booking],
        views: list[BookingView],
        changes: str,
        after: SessionView,
        now: datetime,
    ) -> int:
        """One message to each person booked or waiting, saying what changed."""
        told = 0
        for booking, view in zip(bookings, views, strict=True):
            person: Person = booking.person
            status = (
                "Your place is still booked."
                if view.is_booked
                else f"You're still number {view.waiting_position} on the waiting list."
            )
            lines = [f"A change to {after.activity} that you booked:", changes, "", status]
            if view.join_link:
                lines.append(f"Join online: {view.join_link}")
            keyboard = [
                [Button("My bookings", actions.MY_BOOKINGS)],
                [Button("I can't make it now", actions.cannot_come(view.id))],
            ]
            if enqueue(
                session,
                person,
                kind="session_changed",
                text="\n".join(lines),
                keyboard=keyboard,
                now=now,
                booking_id=view.id,
            ):
                told += 1
        return told


def describe_changes(
    before: SessionView, after: SessionView, tz: ZoneInfo, link_changed: bool
) -> list[str]:
    """Plain lines, one per thing that changed: 'When: now … (was …)'."""
    lines = []
    if before.starts_at != after.starts_at:
        now_, was = format_when(after.starts_at, tz), format_when(before.starts_at, tz)
        lines.append(f"When: now {now_} (was {was})")
    if place_line(before) != place_line(after):
        lines.append(f"Where: now {place_line(after)} (was {place_line(before)})")
    elif link_changed and after.online:
        lines.append("Where: online, with a new join link")
    if before.capacity != after.capacity:
        lines.append(f"Places: now {after.capacity} (was {before.capacity})")
    if before.notes != after.notes:
        lines.append(f"Notes: {after.notes or 'none'}")
    return lines
