"""Data rights and retention: a person's copy of everything held (/mydata), erasure
(/forgetme, or staff for a reader without Telegram), and the daily retention job.

Erasure keeps the figures: bookings stay with `person_id` NULL (their `person_key` pseudonym
still counts "people reached"), readers stay as blanked rows (`erased_at` set), and past calls
keep the volunteer's `volunteer_key`. Nothing that names the person survives: their profile,
follows, open forms, volunteer record, the readers they registered, and every message to them,
about their bookings or calls, or naming them, go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.clock import Clock, format_day, format_time, format_when
from bot.config import Config
from bot.db.database import Database
from bot.db.models import (
    Activity,
    AvailabilityWindow,
    Booking,
    CallBooking,
    CallOffer,
    CallSeries,
    Dialog,
    Follow,
    Library,
    LibrarySession,
    OutboxMessage,
    Person,
    Reader,
    Volunteer,
)
from bot.services.audit import record
from bot.services.bookings import LIVE, Bookings, lock_session
from bot.services.outbox import enqueue
from bot.services.phones import PhoneKeyError, PhoneVault, readable
from bot.services.readers import INTERESTS, UPCOMING, reader_view, volunteer_person
from bot.services.reminders import Reminders, describe_offsets
from bot.services.staff_alerts import alert_staff
from bot.services.views import ReaderView, WindowView
from bot.services.volunteers import volunteer_of, window_text

# The audit trail's "who" when people erase themselves: no staff member, and no identifier.
SELF_SERVICE = -1
ERASED_BY_SELF = "a person erased their data"
# A reader's number kept sealed in a waiting message (see phones.sealed_mark).
SEALED_NUMBER = re.compile(r"\[\[phone:[^\]]*\]\]")
DONE = ("sent", "failed", "cancelled")
PREFERENCE_WORDS = {
    "in_person": "in person",
    "online": "online",
    "both": "in person and online",
}
STATUS_WORDS = {
    "booked": "booked",
    "waiting": "on the waiting list",
    "cancelled": "cancelled",
    "open": "looking for a volunteer",
    "offered": "looking for a volunteer",
    "confirmed": "a volunteer is booked",
    "done": "done",
    "no_answer": "no answer",
    "concern": "the volunteer was worried",
    "attended": "you came",
    "no_show": "marked as not there",
    "pending": "waiting for staff to approve",
    "approved": "approved",
    "rejected": "not taken on",
}


@dataclass(frozen=True)
class RetentionReport:
    notes_cleared: int
    deliveries_deleted: int
    bookings_anonymised: int

    @property
    def total(self) -> int:
        return self.notes_cleared + self.deliveries_deleted + self.bookings_anonymised


def dated(moment: datetime, tz: ZoneInfo) -> str:
    """'Tue 24 Nov 2026, 9am': the document may span years, so it gives them."""
    local = moment.astimezone(tz)
    return f"{format_day(local)} {local.year}, {format_time(local)}"


def _names_pattern(name: str) -> re.Pattern[str] | None:
    name = name.strip()
    if not name:
        return None
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


class Privacy:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        vault: PhoneVault,
        bookings: Bookings,
        reminders: Reminders,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._vault = vault
        self._bookings = bookings
        self._reminders = reminders

    # ------------------------------------------------------------------------------------
    # /mydata
    # ------------------------------------------------------------------------------------

    async def export(self, person_id: int) -> str:
        """Everything held about the person, as a plain-text document ("" if nothing is)."""
        tz = self._config.tz
        now = self._clock()
        async with self._db.transaction() as session:
            person = await session.get(
                Person, person_id, options=[selectinload(Person.home_library)]
            )
            if person is None:
                return ""
            lines = [
                f"Everything {self._config.service.name} holds about you in Cuppa",
                f"Made on {dated(now, tz)}.",
                "",
            ]
            lines += self._about(person)
            lines += await self._bookings_part(session, person_id)
            lines += await self._follows_part(session, person_id)
            lines += await self._readers_part(session, person_id)
            lines += await self._volunteer_part(session, person_id)
            lines += await self._waiting_part(session, person)
            if person.telegram_id is not None and await session.get(Dialog, person.telegram_id):
                lines += [
                    "A form you had not finished is also kept until you finish or leave it.",
                    "",
                ]
            lines.append(
                "To have all of this deleted, send /forgetme, or call "
                f"{self._config.service.phone}."
            )
            return "\n".join(lines) + "\n"

    def _about(self, person: Person) -> list[str]:
        tz = self._config.tz
        offsets = (
            tuple(person.reminder_offsets)
            if person.reminder_offsets is not None
            else self._config.reminders.offsets_minutes
        )
        lines = [
            "ABOUT YOU",
            f"First name: {person.first_name or '(none)'}",
            f"Telegram account number: {person.telegram_id}",
            f"Agreed to the privacy notice: {dated(person.consented_at, tz)}",
            "Home library: " + (person.home_library.name if person.home_library else "not chosen"),
            f"Sessions you look for: {PREFERENCE_WORDS.get(person.preference, person.preference)}",
            f"Reminders: {describe_offsets(offsets)}",
            f"General news from the library: {'yes' if person.news_opt_in else 'no'}",
        ]
        if person.unreachable_at is not None:
            lines.append(
                f"We stopped messaging you on {dated(person.unreachable_at, tz)} "
                "(the bot was blocked)."
            )
        return [*lines, ""]

    async def _bookings_part(self, session: AsyncSession, person_id: int) -> list[str]:
        tz = self._config.tz
        rows = list(
            await session.execute(
                select(Booking, LibrarySession, Activity.name, Library.name)
                .join(LibrarySession, LibrarySession.id == Booking.session_id)
                .join(Activity, Activity.id == LibrarySession.activity_id)
                .outerjoin(Library, Library.id == LibrarySession.library_id)
                .where(Booking.person_id == person_id)
                .order_by(LibrarySession.starts_at, Booking.id)
            )
        )
        lines = [f"YOUR BOOKINGS ({len(rows)})"]
        for booking, sitting, activity, library in rows:
            where = "online" if sitting.online or library is None else library
            status = STATUS_WORDS.get(booking.status, booking.status)
            if sitting.status == "cancelled":
                status += " (the session was cancelled)"
            if booking.attendance:
                status += f", {STATUS_WORDS.get(booking.attendance, booking.attendance)}"
            if booking.was_waitlisted and booking.status != "waiting":
                status += ", was on the waiting list"
            lines.append(
                f"- {activity}, {where}, {dated(sitting.starts_at, tz)}: {status} "
                f"(made {dated(booking.created_at, tz)})"
            )
        if not rows:
            lines.append("None.")
        return [*lines, ""]

    async def _follows_part(self, session: AsyncSession, person_id: int) -> list[str]:
        rows = list(
            await session.execute(
                select(Activity.name, Library.name)
                .select_from(Follow)
                .outerjoin(Activity, Activity.id == Follow.activity_id)
                .outerjoin(Library, Library.id == Follow.library_id)
                .where(Follow.person_id == person_id)
                .order_by(Follow.id)
            )
        )
        lines = ["WHAT YOU FOLLOW (to hear of new sessions)"]
        lines += [f"- {activity or library}" for activity, library in rows] or ["Nothing."]
        return [*lines, ""]

    async def _readers_part(self, session: AsyncSession, person_id: int) -> list[str]:
        tz = self._config.tz
        readers = list(
            await session.scalars(
                select(Reader).where(Reader.contact_person_id == person_id).order_by(Reader.id)
            )
        )
        if not readers:
            return []
        lines = ["READING FRIENDS: READERS YOU REGISTERED"]
        for reader in readers:
            try:
                phone = readable(self._vault.open(reader.phone_encrypted))
            except (PhoneKeyError, ValueError):
                phone = f"(can't be shown here: please call {self._config.service.phone})"
            likes = ", ".join(INTERESTS.get(code, code) for code in reader.interests or [])
            lines += [
                f"{reader.first_name}",
                f"  Phone: {phone}",
                f"  Likes: {likes or 'anything'}",
                f"  Needs: {reader.needs or 'none given'}",
                f"  Agreed to calls: {dated(reader.consented_at, tz)}",
                f"  Calls paused: {'yes' if reader.paused else 'no'}",
            ]
            calls = list(
                await session.scalars(
                    select(CallBooking)
                    .where(CallBooking.reader_id == reader.id)
                    .order_by(CallBooking.starts_at)
                )
            )
            for call in calls:
                status = STATUS_WORDS.get(call.outcome or call.status, call.status)
                lines.append(f"  Call {dated(call.starts_at, tz)}: {status}")
        return [*lines, ""]

    async def _volunteer_part(self, session: AsyncSession, person_id: int) -> list[str]:
        tz = self._config.tz
        volunteer = await volunteer_of(session, person_id)
        if volunteer is None:
            return []
        windows = [
            window_text(WindowView(w.weekday, w.start_minute, w.end_minute))
            for w in await session.scalars(
                select(AvailabilityWindow)
                .where(AvailabilityWindow.volunteer_id == volunteer.id)
                .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)
            )
        ]
        likes = ", ".join(INTERESTS.get(code, code) for code in volunteer.interests or [])
        lines = [
            "READING FRIENDS: YOUR VOLUNTEERING",
            f"Status: {STATUS_WORDS.get(volunteer.status, volunteer.status)}",
            f"Calls a week: up to {volunteer.calls_per_week}",
            f"Your times: {'; '.join(windows) or 'none'}",
            f"Interests: {likes or 'none given'}",
            "Checks (DBS) dated: "
            + (volunteer.checks_on.strftime("%-d %b %Y") if volunteer.checks_on else "not yet"),
        ]
        if volunteer.paused_until is not None:
            lines.append(f"Paused until: {volunteer.paused_until.strftime('%-d %b %Y')}")
        calls = list(
            await session.execute(
                select(CallBooking, Reader.first_name)
                .join(Reader, Reader.id == CallBooking.reader_id)
                .where(CallBooking.volunteer_id == volunteer.id)
                .order_by(CallBooking.starts_at)
            )
        )
        lines.append("Your calls:" if calls else "Your calls: none yet.")
        for call, reader_name in calls:
            key = call.outcome or call.status
            status = "you're booked to call" if key == "confirmed" else STATUS_WORDS.get(key, key)
            who = reader_name or "a reader"
            lines.append(f"- {dated(call.starts_at, tz)} with {who}: {status}")
        return [*lines, ""]

    async def _waiting_part(self, session: AsyncSession, person: Person) -> list[str]:
        tz = self._config.tz
        addressed = [OutboxMessage.person_id == person.id]
        if person.telegram_id is not None:
            addressed.append(OutboxMessage.chat_id == person.telegram_id)
        rows = list(
            await session.scalars(
                select(OutboxMessage)
                .where(or_(*addressed), OutboxMessage.status == "pending")
                .order_by(OutboxMessage.not_before, OutboxMessage.id)
            )
        )
        lines = ["MESSAGES WAITING TO BE SENT TO YOU"]
        for row in rows:
            text = SEALED_NUMBER.sub("(the number, sent nearer the time)", row.text)
            text = " ".join(text.split())
            lines.append(f"- {dated(row.not_before, tz)}: {text}")
        if not rows:
            lines.append("None.")
        return [*lines, ""]

    # ------------------------------------------------------------------------------------
    # /forgetme, and staff erasing a reader without Telegram
    # ------------------------------------------------------------------------------------

    async def holds_anything(self, person_id: int) -> bool:
        async with self._db.transaction() as session:
            return await session.get(Person, person_id) is not None

    async def forget(self, person_id: int) -> bool:
        """Erase the person, in one transaction; False if there was nobody to erase."""
        now = self._clock()
        async with self._db.transaction() as session:
            person = await session.get(Person, person_id)
            if person is None:
                return False
            await self._give_up_places(session, person_id, now)
            bookings = select(Booking.id).where(Booking.person_id == person_id)
            about_them = [
                OutboxMessage.person_id == person_id,
                OutboxMessage.booking_id.in_(bookings),
            ]
            if person.telegram_id is not None:
                about_them.append(OutboxMessage.chat_id == person.telegram_id)
                await session.execute(
                    delete(Dialog).where(Dialog.telegram_id == person.telegram_id)
                )
            await session.execute(delete(OutboxMessage).where(or_(*about_them)))
            await session.execute(
                update(Booking).where(Booking.person_id == person_id).values(person_id=None)
            )
            await session.execute(delete(Follow).where(Follow.person_id == person_id))
            names = [person.first_name]
            for reader in await session.scalars(
                select(Reader).where(Reader.contact_person_id == person_id)
            ):
                names.append(reader.first_name)
                await self._erase_reader(session, reader, now)
            volunteer = await volunteer_of(session, person_id)
            if volunteer is not None:
                await self._remove_volunteer(session, volunteer, now)
            await session.execute(delete(Person).where(Person.id == person_id))
            for name in names:
                await self._unname(session, name)
            record(session, SELF_SERVICE, "erasure", ERASED_BY_SELF, now)
            return True

    async def readers_without_telegram(self) -> list[ReaderView]:
        """Readers staff registered for someone without Telegram, not yet erased."""
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(Reader)
                .where(
                    Reader.registered_by_staff.is_not(None),
                    Reader.contact_person_id.is_(None),
                    Reader.erased_at.is_(None),
                )
                .order_by(func.lower(Reader.first_name), Reader.id)
            )
            return [reader_view(row) for row in rows]

    async def forget_reader(self, staff_id: int, reader_id: int) -> str | None:
        """Erase a reader staff registered (who has no Telegram), audited with who did it.
        Returns their first name as it was, or None if there is no such reader to erase."""
        now = self._clock()
        async with self._db.transaction() as session:
            reader = await session.get(Reader, reader_id, with_for_update=True)
            if (
                reader is None
                or reader.registered_by_staff is None
                or reader.contact_person_id is not None
                or reader.erased_at is not None
            ):
                return None
            name = reader.first_name
            await self._erase_reader(session, reader, now)
            await self._unname(session, name)
            record(session, staff_id, "erase reader", f"reader {reader_id}", now)
            return name

    async def _give_up_places(self, session: AsyncSession, person_id: int, now: datetime) -> None:
        """Cancel the person's places in sessions still to come, as a cancellation would: their
        reminders go and the next person waiting gets the place."""
        live = list(
            await session.scalars(
                select(Booking)
                .join(LibrarySession, LibrarySession.id == Booking.session_id)
                .where(
                    Booking.person_id == person_id,
                    Booking.status.in_(LIVE),
                    LibrarySession.starts_at > now,
                )
                .order_by(Booking.session_id)  # lock sessions in one order: no deadlocks
            )
        )
        for booking in live:
            target = await lock_session(session, booking.session_id)
            booking.status = "cancelled"
            await session.flush()
            await self._reminders.drop(session, [booking.id])
            if target is not None:
                await self._bookings.fill_from_waiting_list(session, target)

    async def _erase_reader(self, session: AsyncSession, reader: Reader, now: datetime) -> None:
        """Stand down the reader's calls still to come (volunteers told, without the name),
        then blank the row: it stays only as an anonymous count."""
        tz = self._config.tz
        await session.execute(
            update(CallSeries)
            .where(CallSeries.reader_id == reader.id)
            .values(active=False, volunteer_id=None)
        )
        upcoming = list(
            await session.scalars(
                select(CallBooking).where(
                    CallBooking.reader_id == reader.id,
                    CallBooking.status.in_(UPCOMING),
                    CallBooking.starts_at > now,
                )
            )
        )
        await session.execute(
            update(CallOffer)
            .where(
                CallOffer.booking_id.in_([call.id for call in upcoming]),
                CallOffer.status.in_(("pending", "accepted")),
            )
            .values(status="withdrawn", answered_at=now)
        )
        for call in upcoming:
            if call.status == "confirmed" and call.volunteer_id is not None:
                enqueue(
                    session,
                    await volunteer_person(session, call.volunteer_id),
                    kind="call_cancelled",
                    now=now,
                    text=f"Your Reading Friends call on {format_when(call.starts_at, tz)} is "
                    "no longer needed, so there's no need to phone. Thank you.",
                )
            call.status, call.volunteer_id = "cancelled", None
        calls = select(CallBooking.id).where(CallBooking.reader_id == reader.id)
        await session.execute(delete(OutboxMessage).where(OutboxMessage.call_id.in_(calls)))
        # Notes about them go; a call not yet logged asks nobody about them any more.
        await session.execute(
            update(CallBooking).where(CallBooking.reader_id == reader.id).values(note="")
        )
        await session.execute(
            update(CallBooking)
            .where(CallBooking.reader_id == reader.id, CallBooking.unlogged_alerted_at.is_(None))
            .values(unlogged_alerted_at=now)
        )
        reader.first_name, reader.phone_encrypted, reader.needs = "", "", ""
        reader.contact_person_id, reader.erased_at, reader.paused = None, now, True
        await session.flush()

    async def _remove_volunteer(
        self, session: AsyncSession, volunteer: Volunteer, now: datetime
    ) -> None:
        """Their calls still to come go back to matching (the reader's contact is told); past
        calls keep only the volunteer's pseudonym; then the record goes."""
        tz = self._config.tz
        theirs = select(CallBooking.id).where(CallBooking.volunteer_id == volunteer.id)
        offered = select(CallOffer.booking_id).where(
            CallOffer.volunteer_id == volunteer.id, CallOffer.status == "pending"
        )
        await session.execute(
            delete(OutboxMessage).where(
                or_(OutboxMessage.call_id.in_(theirs), OutboxMessage.call_id.in_(offered))
            )
        )
        confirmed = list(
            await session.execute(
                select(CallBooking, Reader)
                .join(Reader, Reader.id == CallBooking.reader_id)
                .where(
                    CallBooking.volunteer_id == volunteer.id,
                    CallBooking.status == "confirmed",
                    CallBooking.starts_at > now,
                )
            )
        )
        for call, reader in confirmed:
            when = format_when(call.starts_at, tz)
            contact = (
                await session.get(Person, reader.contact_person_id)
                if reader.contact_person_id is not None
                else None
            )
            if contact is not None and contact.id != volunteer.person_id:
                enqueue(
                    session,
                    contact,
                    kind="call_reassigned",
                    now=now,
                    text=f"The volunteer who was going to phone {reader.first_name} on {when} "
                    "can no longer do it, so we're finding someone else. I'll let you know.",
                )
            elif reader.contact_person_id is None and reader.erased_at is None:
                alert_staff(
                    session,
                    self._config,
                    f"Reading Friends: {reader.first_name}'s call on {when} has lost its "
                    "volunteer and is back in matching.",
                    now,
                    kind="call_reassigned",
                )
        await session.execute(
            update(CallBooking)
            .where(
                or_(
                    CallBooking.id.in_([call.id for call, _ in confirmed]),
                    (CallBooking.id.in_(offered)) & (CallBooking.status == "offered"),
                )
            )
            .values(status="open", volunteer_id=None, volunteer_key=None, unmatched_alerted_at=None)
        )
        await session.execute(
            update(CallBooking)
            .where(CallBooking.volunteer_id == volunteer.id)
            .values(volunteer_id=None)
        )
        await session.execute(
            update(CallSeries)
            .where(CallSeries.volunteer_id == volunteer.id)
            .values(volunteer_id=None)
        )
        await session.execute(delete(CallOffer).where(CallOffer.volunteer_id == volunteer.id))
        await session.execute(
            delete(AvailabilityWindow).where(AvailabilityWindow.volunteer_id == volunteer.id)
        )
        await session.execute(delete(Volunteer).where(Volunteer.id == volunteer.id))

    async def _unname(self, session: AsyncSession, name: str) -> None:
        """Messages (to anyone, staff alerts included) that name someone erased: records of
        ones already sent go; ones still to go have the name taken out. Broadcasts are staff's
        own words, kept for their delivery report."""
        pattern = _names_pattern(name)
        if pattern is None:
            return
        rows = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.broadcast_id.is_(None),
                or_(
                    OutboxMessage.text.contains(name.strip(), autoescape=True),
                    func.lower(OutboxMessage.text).contains(name.strip().lower(), autoescape=True),
                ),
            )
        )
        for row in rows:
            if not pattern.search(row.text):
                continue
            if row.status != "pending":
                await session.delete(row)
                continue
            row.text = pattern.sub("someone", row.text)
            if row.buttons:
                row.buttons = [
                    [[pattern.sub("someone", label), data] for label, data in line]
                    for line in row.buttons
                ]
        await session.flush()

    # ------------------------------------------------------------------------------------
    # Retention: the daily job
    # ------------------------------------------------------------------------------------

    async def apply_retention(self) -> int:
        report = await self.retain()
        return report.total

    async def retain(self) -> RetentionReport:
        """Clear old call notes, delete old delivery records, anonymise old past bookings."""
        now = self._clock()
        periods = self._config.retention
        notes_before = now - timedelta(days=periods.call_notes_days)
        deliveries_before = now - timedelta(days=periods.delivery_days)
        bookings_before = now - timedelta(days=periods.past_bookings_days)
        async with self._db.transaction() as session:
            notes = await session.execute(
                update(CallBooking)
                .where(CallBooking.starts_at < notes_before, CallBooking.note != "")
                .values(note="")
            )
            deliveries = await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.status.in_(DONE),
                    func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
                    < deliveries_before,
                )
            )
            old_sessions = select(LibrarySession.id).where(
                LibrarySession.starts_at < bookings_before
            )
            bookings = await session.execute(
                update(Booking)
                .where(Booking.person_id.is_not(None), Booking.session_id.in_(old_sessions))
                .values(person_id=None)
            )
            return RetentionReport(
                notes.rowcount or 0,  # type: ignore[attr-defined]
                deliveries.rowcount or 0,  # type: ignore[attr-defined]
                bookings.rowcount or 0,  # type: ignore[attr-defined]
            )
