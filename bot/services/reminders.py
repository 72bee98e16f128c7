"""Reminders before booked sessions: outbox rows made with the booking and kept in step with it.

A reminder is an outbox row with a not-before time and an expiry at the session's start, so it is
sent once, never after the session has begun, survives any restart, and is replaced whenever
the booking, the session or the person's choice of reminders changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import actions
from bot.clock import format_time, format_when
from bot.config import Config
from bot.db.models import Booking, OutboxMessage, Person
from bot.services.outbox import enqueue
from bot.services.views import BookingView, Button, Keyboard
from bot.wording import place_line

DAY = 24 * 60
KIND = "reminder"

# The choices offered in the bot: label and offsets in minutes (None: the configured default).
CHOICES: dict[str, tuple[str, tuple[int, ...] | None]] = {
    "d": ("The usual (a day and an hour before)", None),
    "1": ("Only the day before", (DAY,)),
    "h": ("Only an hour before", (60,)),
    "0": ("No reminders", ()),
}


def reminder_time(starts_at: datetime, offset_minutes: int, tz: ZoneInfo) -> datetime:
    """When to remind: whole days back in local days (same time of day), the rest in minutes."""
    days, minutes = divmod(offset_minutes, DAY)
    at = starts_at.astimezone(UTC)
    if days:  # (a local round trip with no days to move would lose `fold` in the repeated hour)
        wall = starts_at.astimezone(tz).replace(tzinfo=None) - timedelta(days=days)
        at = wall.replace(tzinfo=tz).astimezone(UTC)
    return at - timedelta(minutes=minutes)


def describe_offsets(offsets: Iterable[int]) -> str:
    words = []
    for offset in sorted(offsets, reverse=True):
        days, minutes = divmod(offset, DAY)
        if days and not minutes:
            words.append("the day before" if days == 1 else f"{days} days before")
        elif minutes % 60 == 0 and not days:
            hours = minutes // 60
            words.append(f"{hours} hour{'s' if hours != 1 else ''} before")
        else:
            words.append(f"{offset} minutes before")
    return " and ".join(words) if words else "no reminders"


def reminder_text(booking: BookingView, offset: int, tz: ZoneInfo) -> str:
    session = booking.session
    local = session.starts_at.astimezone(tz)
    if offset >= DAY and offset % DAY == 0:
        when = "tomorrow" if offset == DAY else format_when(session.starts_at, tz)
        lead = f"A reminder: {session.activity} is {when} at {format_time(local)}."
    else:
        lead = f"A reminder: {session.activity} starts at {format_time(local)} today."
    lines = [lead, f"Where: {place_line(session)}"]
    if booking.join_link:
        lines.append(f"Join online: {booking.join_link}")
    if offset >= DAY:
        lines.append("\nStill coming?")
    return "\n".join(lines)


def reminder_keyboard(booking_id: int, offset: int) -> Keyboard | None:
    if offset < DAY:
        return None
    return [
        [Button("Yes, I'll be there", actions.still_coming(booking_id))],
        [Button("I can't make it", actions.cannot_come(booking_id))],
    ]


class Reminders:
    """Makes and drops reminder rows inside the caller's transaction."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def offsets_for(self, person: Person) -> tuple[int, ...]:
        if person.reminder_offsets is None:
            return self._config.reminders.offsets_minutes
        return tuple(person.reminder_offsets)

    async def drop(self, session: AsyncSession, booking_ids: Iterable[int]) -> None:
        """Cancel any reminder still waiting to go for these bookings."""
        ids = list(booking_ids)
        if not ids:
            return
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.booking_id.in_(ids),
                OutboxMessage.kind == KIND,
                OutboxMessage.status == "pending",
            )
            .values(status="cancelled", last_error="replaced or no longer needed")
        )

    async def plan(self, session: AsyncSession, views: list[BookingView], now: datetime) -> None:
        """(Re)make the reminders of these bookings: old ones dropped, new ones for booked
        places whose reminder time has not passed yet."""
        await self.drop(session, [view.id for view in views])
        booked = [view for view in views if view.is_booked]
        if not booked:
            return
        rows = await session.execute(
            select(Booking.id, Person)
            .join(Person, Person.id == Booking.person_id)
            .where(Booking.id.in_([view.id for view in booked]))
        )
        owners = {booking_id: person for booking_id, person in rows}
        tz = self._config.tz
        for view in booked:
            person = owners[view.id]
            for offset in self.offsets_for(person):
                at = reminder_time(view.session.starts_at, offset, tz)
                if at <= now:
                    continue
                enqueue(
                    session,
                    person,
                    kind=KIND,
                    text=reminder_text(view, offset, tz),
                    keyboard=reminder_keyboard(view.id, offset),
                    now=now,
                    not_before=at,
                    expires_at=view.session.starts_at,
                    booking_id=view.id,
                )
