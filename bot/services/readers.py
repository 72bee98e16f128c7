"""Reading Friends readers: registering (themselves, or by a carer, referrer or staff), and
booking, cancelling and pausing their calls. Phone numbers are sealed before they are stored."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, at_local, format_when
from bot.config import Config
from bot.db.database import Database
from bot.db.models import (
    CallBooking,
    CallOffer,
    CallSeries,
    OutboxMessage,
    Person,
    Reader,
    Volunteer,
)
from bot.services.audit import record
from bot.services.matching import available, week_of
from bot.services.outbox import enqueue
from bot.services.people import clean_name
from bot.services.phones import PhoneVault, uk_number
from bot.services.views import CallView, ReaderView
from bot.services.volunteers import Volunteers

INTERESTS = {
    "stories": "Stories",
    "poetry": "Poetry",
    "news": "News",
    "history": "History",
    "nature": "Nature",
    "sport": "Sport",
    "chat": "Just a chat",
}
NEEDS_LIMIT = 300
SLOT = timedelta(minutes=30)
UPCOMING = ("open", "offered", "confirmed")


class ReaderError(ValueError):
    """Something about a reader's details to put right; the message says what."""


def reader_view(row: Reader) -> ReaderView:
    return ReaderView(
        row.id,
        row.first_name,
        list(row.interests or []),
        row.needs,
        row.paused,
        row.contact_person_id,
    )


def call_view(row: CallBooking, reader: Reader, volunteer_name: str | None) -> CallView:
    return CallView(
        id=row.id,
        reader_id=row.reader_id,
        reader_name=reader.first_name,
        starts_at=row.starts_at,
        status=row.status,
        volunteer_name=volunteer_name,
        outcome=row.outcome,
        weekly=row.series_id is not None,
    )


class Readers:
    def __init__(
        self, db: Database, config: Config, clock: Clock, vault: PhoneVault, volunteers: Volunteers
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._vault = vault
        self._volunteers = volunteers

    async def register(
        self,
        *,
        first_name: str,
        phone: str,
        interests: list[str],
        needs: str,
        contact_person_id: int | None = None,
        staff_id: int | None = None,
    ) -> ReaderView:
        """Register a reader who has agreed to be called; raises ReaderError to correct."""
        name = clean_name(first_name)
        if not name:
            raise ReaderError("Please give their first name.")
        number = uk_number(phone)
        if number is None:
            raise ReaderError(
                "That doesn't look like a UK phone number. Please type it like 01603 774774 "
                "or 07400 123456."
            )
        unknown = [i for i in interests if i not in INTERESTS]
        if unknown:
            raise ReaderError("Please choose interests from the buttons.")
        now = self._clock()
        async with self._db.transaction() as session:
            row = Reader(
                contact_person_id=contact_person_id,
                registered_by_staff=staff_id,
                first_name=name,
                phone_encrypted=self._vault.seal(number),
                interests=interests,
                needs=needs.strip()[:NEEDS_LIMIT],
                consented_at=now,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            _audit(session, staff_id, "register reader", f"reader {row.id}", now)
            return reader_view(row)

    async def count(self) -> int:
        async with self._db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(Reader)) or 0)

    async def for_contact(self, person_id: int) -> list[ReaderView]:
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(Reader).where(Reader.contact_person_id == person_id).order_by(Reader.id)
            )
            return [reader_view(row) for row in rows]

    async def own(self, reader_id: int, person_id: int | None, staff: bool) -> ReaderView | None:
        """The reader if this person may act for them (their contact, or staff)."""
        async with self._db.transaction() as session:
            row = await session.get(Reader, reader_id)
            if row is None or not (staff or row.contact_person_id == person_id):
                return None
            return reader_view(row)

    async def free_slots(self) -> list[datetime]:
        """30-minute call times in the next days when at least one volunteer is free."""
        now = self._clock()
        tz = self._config.tz
        candidates = await self._volunteers.candidates()
        today = now.astimezone(tz).date()
        slots: set[datetime] = set()
        for offset in range(1, self._config.reading_friends.booking_days + 1):
            day = today + timedelta(days=offset)
            for candidate in candidates:
                for weekday, start, end in candidate.windows:
                    if weekday != day.weekday():
                        continue
                    for minute in range(start, end - 29, 30):
                        at = at_local(day, time(minute // 60, minute % 60), tz)
                        full = candidate.load.get(week_of(at, tz), 0) >= candidate.capacity
                        if not full and at not in candidate.busy and available(candidate, at, tz):
                            slots.add(at)
        return sorted(slot for slot in slots if slot > now + timedelta(hours=2))

    async def book(
        self, reader_id: int, starts_at: datetime, weekly: bool, *, staff_id: int | None = None
    ) -> CallView | None:
        """Book a call at a free time (weekly: the same time each week); None if not free.
        `staff_id` (on each change here): the staff member acting for the reader, audited."""
        if starts_at not in await self.free_slots():
            return None
        now = self._clock()
        tz = self._config.tz
        async with self._db.transaction() as session:
            reader = await session.get(Reader, reader_id)
            if reader is None or reader.paused:
                return None
            local = starts_at.astimezone(tz)
            series_id = None
            if weekly:
                series = CallSeries(
                    reader_id=reader_id,
                    weekday=local.weekday(),
                    local_time=local.strftime("%H:%M"),
                    first_day=local.date(),
                    created_at=now,
                )
                session.add(series)
                await session.flush()
                series_id = series.id
            row = CallBooking(
                reader_id=reader_id,
                starts_at=starts_at.astimezone(UTC),
                series_id=series_id,
                series_day=local.date() if weekly else None,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            if weekly:
                await self._extend(session, await session.get(CallSeries, series_id), now)
            _audit(session, staff_id, "book call", f"reader {reader_id}: call {row.id}", now)
            return call_view(row, reader, None)

    async def extend_series(self) -> int:
        """Book the weekly calls that have come within the booking window."""
        now = self._clock()
        made = 0
        async with self._db.transaction() as session:
            for series in await session.scalars(select(CallSeries).where(CallSeries.active)):
                made += await self._extend(session, series, now)
        return made

    async def _extend(self, session: AsyncSession, series: CallSeries | None, now: datetime) -> int:
        assert series is not None
        tz = self._config.tz
        last = now.astimezone(tz).date() + timedelta(days=self._config.reading_friends.booking_days)
        existing = set(
            await session.scalars(
                select(CallBooking.series_day).where(CallBooking.series_id == series.id)
            )
        )
        day: date = series.first_day
        made = 0
        while day <= last:
            at = at_local(day, time.fromisoformat(series.local_time), tz)
            if day not in existing and at > now:
                session.add(
                    CallBooking(
                        reader_id=series.reader_id,
                        starts_at=at,
                        series_id=series.id,
                        series_day=day,
                        created_at=now,
                    )
                )
                made += 1
            day += timedelta(days=7)
        await session.flush()
        return made

    async def calls(self, reader_id: int) -> list[CallView]:
        """Upcoming calls, soonest first, with the volunteer's first name once confirmed."""
        now = self._clock()
        async with self._db.transaction() as session:
            reader = await session.get(Reader, reader_id)
            if reader is None:
                return []
            rows = await session.execute(
                select(CallBooking, Volunteer)
                .outerjoin(Volunteer, Volunteer.id == CallBooking.volunteer_id)
                .where(
                    CallBooking.reader_id == reader_id,
                    CallBooking.status.in_(UPCOMING),
                    CallBooking.starts_at > now,
                )
                .order_by(CallBooking.starts_at)
            )
            result = []
            for call, volunteer in rows:
                name = None
                if volunteer is not None and call.status == "confirmed":
                    name = (await volunteer_person(session, volunteer.id)).first_name
                result.append(call_view(call, reader, name))
            return result

    async def cancel_call(
        self, reader_id: int, call_id: int, *, staff_id: int | None = None
    ) -> CallView | None:
        now = self._clock()
        async with self._db.transaction() as session:
            call = await session.get(CallBooking, call_id)
            reader = await session.get(Reader, reader_id)
            if call is None or reader is None or call.reader_id != reader_id:
                return None
            if call.status not in UPCOMING or call.starts_at <= now:
                return None
            await self._stand_down(session, [call], reader, now, "cancelled")
            _audit(session, staff_id, "cancel call", f"reader {reader_id}: call {call_id}", now)
            return call_view(call, reader, None)

    async def pause(self, reader_id: int, *, staff_id: int | None = None) -> int:
        """Stop all calls: weekly ones end, upcoming ones are cancelled (volunteers told)."""
        now = self._clock()
        async with self._db.transaction() as session:
            reader = await session.get(Reader, reader_id)
            if reader is None:
                return 0
            reader.paused = True
            await session.execute(
                update(CallSeries).where(CallSeries.reader_id == reader_id).values(active=False)
            )
            calls = list(
                await session.scalars(
                    select(CallBooking).where(
                        CallBooking.reader_id == reader_id,
                        CallBooking.status.in_(UPCOMING),
                        CallBooking.starts_at > now,
                    )
                )
            )
            await self._stand_down(session, calls, reader, now, "paused")
            _audit(session, staff_id, "pause calls", f"reader {reader_id}", now)
            return len(calls)

    async def resume(self, reader_id: int, *, staff_id: int | None = None) -> bool:
        async with self._db.transaction() as session:
            reader = await session.get(Reader, reader_id)
            if reader is None:
                return False
            reader.paused = False
            _audit(session, staff_id, "resume calls", f"reader {reader_id}", self._clock())
            return True

    async def different_volunteer(self, reader_id: int, *, staff_id: int | None = None) -> int:
        """Ask for someone else: future calls with the current volunteer go back to matching,
        and that volunteer is never offered them again."""
        now = self._clock()
        async with self._db.transaction() as session:
            reader = await session.get(Reader, reader_id)
            if reader is None:
                return 0
            await session.execute(
                update(CallSeries)
                .where(CallSeries.reader_id == reader_id)
                .values(volunteer_id=None)
            )
            calls = list(
                await session.scalars(
                    select(CallBooking).where(
                        CallBooking.reader_id == reader_id,
                        CallBooking.status.in_(("offered", "confirmed")),
                        CallBooking.starts_at > now,
                    )
                )
            )
            await self._stand_down(session, calls, reader, now, "reassigned")
            for call in calls:
                call.status = "open"
            _audit(session, staff_id, "different volunteer", f"reader {reader_id}", now)
            return len(calls)

    async def _stand_down(
        self,
        session: AsyncSession,
        calls: list[CallBooking],
        reader: Reader,
        now: datetime,
        why: str,
    ) -> None:
        """Withdraw offers, tell confirmed volunteers, drop the calls' waiting messages.

        Withdrawn offers count as declined, so a volunteer is not offered a call again after
        the reader asked for someone else."""
        ids = [call.id for call in calls]
        if not ids:
            return
        await session.execute(
            update(CallOffer)
            .where(CallOffer.booking_id.in_(ids), CallOffer.status.in_(("pending", "accepted")))
            .values(status="withdrawn", answered_at=now)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.call_id.in_(ids), OutboxMessage.status == "pending")
            .values(status="cancelled", last_error=f"call {why}")
        )
        tz = self._config.tz
        for call in calls:
            if call.status == "confirmed" and call.volunteer_id is not None:
                person = await volunteer_person(session, call.volunteer_id)
                enqueue(
                    session,
                    person,
                    kind="call_cancelled",
                    now=now,
                    text=f"Your call with {reader.first_name} on "
                    f"{format_when(call.starts_at, tz)} is no longer needed. Thank you.",
                )
            if why != "reassigned":
                call.status = "cancelled"
            call.volunteer_id = None


def _audit(
    session: AsyncSession, staff_id: int | None, action: str, detail: str, now: datetime
) -> None:
    """Staff acting for a reader leave a trail; a reader or their contact does not."""
    if staff_id is not None:
        record(session, staff_id, action, detail, now)


async def volunteer_person(session: AsyncSession, volunteer_id: int) -> Person:
    person = await session.scalar(
        select(Person)
        .join(Volunteer, Volunteer.person_id == Person.id)
        .where(Volunteer.id == volunteer_id)
    )
    assert person is not None
    return person
