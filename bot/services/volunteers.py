"""Reading Friends volunteers: registering, staff approval with their checks, availability,
holidays, and the warnings before their checks run out."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import actions
from bot.clock import Clock
from bot.config import Config
from bot.db.database import Database
from bot.db.models import AvailabilityWindow, CallBooking, CallOffer, Person, Volunteer
from bot.services.audit import record
from bot.services.matching import Candidate, week_of
from bot.services.outbox import enqueue
from bot.services.staff_alerts import alert_staff
from bot.services.views import Button, VolunteerView, WindowView

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_CALLS_PER_WEEK = 10
WARNINGS = (30, 7)


def window_text(window: WindowView) -> str:
    def clock(minute: int) -> str:
        hour, rest = divmod(minute, 60)
        suffix = "am" if hour < 12 else "pm"
        shown = hour % 12 or 12
        return f"{shown}{suffix}" if rest == 0 else f"{shown}:{rest:02d}{suffix}"

    return f"{WEEKDAYS[window.weekday]} {clock(window.start_minute)}–{clock(window.end_minute)}"


def volunteer_view(row: Volunteer, windows: list[AvailabilityWindow]) -> VolunteerView:
    return VolunteerView(
        id=row.id,
        person_id=row.person_id,
        first_name=row.person.first_name,
        status=row.status,
        calls_per_week=row.calls_per_week,
        interests=list(row.interests or []),
        checks_on=row.checks_on,
        paused_until=row.paused_until,
        windows=[WindowView(w.weekday, w.start_minute, w.end_minute) for w in windows],
    )


def check_windows(windows: list[WindowView]) -> None:
    for window in windows:
        if not (0 <= window.weekday <= 6 and 0 <= window.start_minute < window.end_minute <= 1440):
            raise ValueError("a window must start before it ends, within one day")


async def volunteer_of(session: AsyncSession, person_id: int) -> Volunteer | None:
    """The person's volunteer row, if they have signed up."""
    return await session.scalar(select(Volunteer).where(Volunteer.person_id == person_id))


def add_windows(session: AsyncSession, volunteer_id: int, windows: list[WindowView]) -> None:
    session.add_all(
        AvailabilityWindow(
            volunteer_id=volunteer_id,
            weekday=w.weekday,
            start_minute=w.start_minute,
            end_minute=w.end_minute,
        )
        for w in windows
    )


class Volunteers:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self._db = db
        self._config = config
        self._clock = clock

    async def _load(self, session: AsyncSession, volunteer: Volunteer) -> VolunteerView:
        windows = list(
            await session.scalars(
                select(AvailabilityWindow)
                .where(AvailabilityWindow.volunteer_id == volunteer.id)
                .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)
            )
        )
        return volunteer_view(volunteer, windows)

    async def _row(self, session: AsyncSession, **where: int) -> Volunteer | None:
        stmt = select(Volunteer).options(selectinload(Volunteer.person))
        for column, value in where.items():
            stmt = stmt.where(getattr(Volunteer, column) == value)
        return await session.scalar(stmt)

    async def by_person(self, person_id: int) -> VolunteerView | None:
        async with self._db.transaction() as session:
            row = await self._row(session, person_id=person_id)
            return await self._load(session, row) if row else None

    async def get(self, volunteer_id: int) -> VolunteerView | None:
        async with self._db.transaction() as session:
            row = await self._row(session, id=volunteer_id)
            return await self._load(session, row) if row else None

    async def register(
        self,
        person_id: int,
        windows: list[WindowView],
        calls_per_week: int,
        interests: list[str],
    ) -> VolunteerView | None:
        """Sign up (pending); staff are asked to approve. None if already registered."""
        check_windows(windows)
        calls_per_week = max(1, min(calls_per_week, MAX_CALLS_PER_WEEK))
        now = self._clock()
        async with self._db.transaction() as session:
            if await self._row(session, person_id=person_id) is not None:
                return None
            person = await session.get(Person, person_id)
            if person is None:
                return None
            row = Volunteer(
                person_id=person_id,
                calls_per_week=calls_per_week,
                interests=interests,
                created_at=now,
                person=person,
            )
            session.add(row)
            await session.flush()
            add_windows(session, row.id, windows)
            await session.flush()
            view = await self._load(session, row)
            times = "; ".join(window_text(w) for w in view.windows) or "no times yet"
            alert_staff(
                session,
                self._config,
                f"New Reading Friends volunteer: {view.first_name}, up to {calls_per_week} "
                f"calls a week ({times}). Approve them once their checks (DBS) are done.",
                now,
                kind="volunteer_pending",
                keyboard=[
                    [
                        Button("Approve", actions.approve_volunteer(row.id)),
                        Button("Reject", actions.reject_volunteer(row.id)),
                    ]
                ],
            )
            return view

    async def approve(
        self, staff_id: int, volunteer_id: int, checks_on: date
    ) -> VolunteerView | None:
        """Approve with the date of their checks; None if not pending or checks too old."""
        now = self._clock()
        if (
            not self._checks_valid(checks_on, now)
            or checks_on > now.astimezone(self._config.tz).date()
        ):
            return None
        async with self._db.transaction() as session:
            row = await self._row(session, id=volunteer_id)
            if row is None or row.status == "rejected":
                return None
            row.status, row.checks_on, row.checks_warned = "approved", checks_on, None
            row.approved_by, row.approved_at = staff_id, now
            enqueue(
                session,
                row.person,
                kind="volunteer_approved",
                now=now,
                text="Welcome to Reading Friends! You're approved, so I'll start offering you "
                "calls that fit your times. Thank you for volunteering.",
                keyboard=[[Button("My volunteering", actions.VOLUNTEER)]],
            )
            record(
                session,
                staff_id,
                "approve volunteer",
                f"volunteer {volunteer_id}, checks {checks_on.isoformat()}",
                now,
            )
            return await self._load(session, row)

    async def reject(self, staff_id: int, volunteer_id: int) -> bool:
        now = self._clock()
        async with self._db.transaction() as session:
            row = await self._row(session, id=volunteer_id)
            if row is None or row.status != "pending":
                return False
            row.status = "rejected"
            enqueue(
                session,
                row.person,
                kind="volunteer_rejected",
                now=now,
                text="Thank you for offering to volunteer with Reading Friends. We can't take "
                f"you on just now; please call {self._config.service.phone} if you'd like to "
                "talk about it.",
            )
            record(session, staff_id, "reject volunteer", f"volunteer {volunteer_id}", now)
            return True

    async def set_windows(self, person_id: int, windows: list[WindowView]) -> VolunteerView | None:
        check_windows(windows)
        async with self._db.transaction() as session:
            row = await self._row(session, person_id=person_id)
            if row is None:
                return None
            await session.execute(
                delete(AvailabilityWindow).where(AvailabilityWindow.volunteer_id == row.id)
            )
            add_windows(session, row.id, windows)
            await session.flush()
            return await self._load(session, row)

    async def pause(self, person_id: int, until: date | None) -> VolunteerView | None:
        """Pause new offers until a date (a holiday), or resume with None."""
        async with self._db.transaction() as session:
            row = await self._row(session, person_id=person_id)
            if row is None:
                return None
            row.paused_until = until
            return await self._load(session, row)

    def _checks_valid(self, checks_on: date | None, now: datetime) -> bool:
        if checks_on is None:
            return False
        valid_days = self._config.reading_friends.checks_valid_days
        return checks_on + timedelta(days=valid_days) > now.astimezone(self._config.tz).date()

    async def candidates(self) -> list[Candidate]:
        """Approved volunteers who can take calls now, with their load and busy slots."""
        now = self._clock()
        tz = self._config.tz
        today = now.astimezone(tz).date()
        async with self._db.transaction() as session:
            rows = [
                row
                for row in await session.scalars(
                    select(Volunteer).where(Volunteer.status == "approved")
                )
                if self._checks_valid(row.checks_on, now)
                and (row.paused_until is None or row.paused_until < today)
            ]
            ids = [row.id for row in rows]
            windows: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
            for w in await session.scalars(
                select(AvailabilityWindow).where(AvailabilityWindow.volunteer_id.in_(ids))
            ):
                windows[w.volunteer_id].append((w.weekday, w.start_minute, w.end_minute))
            held = await session.execute(
                select(CallBooking.volunteer_id, CallBooking.starts_at).where(
                    CallBooking.volunteer_id.in_(ids),
                    CallBooking.status == "confirmed",
                    CallBooking.starts_at > now - timedelta(days=7),
                )
            )
            offered = await session.execute(
                select(CallOffer.volunteer_id, CallBooking.starts_at)
                .join(CallBooking, CallBooking.id == CallOffer.booking_id)
                .where(CallOffer.volunteer_id.in_(ids), CallOffer.status == "pending")
            )
            load: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
            busy: dict[int, set[datetime]] = defaultdict(set)
            for volunteer_id, starts_at in [*held, *offered]:
                load[volunteer_id][week_of(starts_at, tz)] += 1
                busy[volunteer_id].add(starts_at)
        return [
            Candidate(
                id=row.id,
                windows=tuple(windows[row.id]),
                capacity=row.calls_per_week,
                load=dict(load[row.id]),
                busy=frozenset(busy[row.id]),
                interests=frozenset(row.interests or []),
            )
            for row in rows
        ]

    async def warn_expiring_checks(self) -> int:
        """Warn volunteers and staff 30 and 7 days before checks run out (each once)."""
        now = self._clock()
        today = now.astimezone(self._config.tz).date()
        valid = timedelta(days=self._config.reading_friends.checks_valid_days)
        warned = 0
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(Volunteer)
                .where(Volunteer.status == "approved", Volunteer.checks_on.is_not(None))
                .options(selectinload(Volunteer.person))
            )
            for row in rows:
                assert row.checks_on is not None
                days_left = (row.checks_on + valid - today).days
                due = [w for w in WARNINGS if days_left <= w and (row.checks_warned or 99) > w]
                if not due or days_left < 0:
                    continue
                stage = min(due)
                row.checks_warned = stage
                expiry = (row.checks_on + valid).strftime("%-d %b %Y")
                enqueue(
                    session,
                    row.person,
                    kind="checks_expiring",
                    now=now,
                    text=f"Your volunteer checks (DBS) run out on {expiry}. Please call "
                    f"{self._config.service.phone} to renew them, so you can keep taking calls.",
                )
                alert_staff(
                    session,
                    self._config,
                    f"{row.person.first_name}'s volunteer checks run out on {expiry} "
                    f"(in {days_left} days).",
                    now,
                    kind="checks_expiring",
                )
                warned += 1
        return warned
