"""How sessions and bookings read, in one place for replies and for messages sent later."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.clock import format_when
from bot.services.views import BookingView, SessionView

NOTE_LIMIT = 300


def place_line(session: SessionView) -> str:
    if session.online or session.library is None:
        return "Online"
    library = session.library
    line = f"{library.name}, {library.address}, {library.town} {library.postcode}"
    if session.distance_miles is not None:
        line += f" ({session.distance_miles:.1f} miles away)"
    return line


def places_line(session: SessionView) -> str:
    if session.places_left == 0:
        waiting = f", {session.waiting} waiting" if session.waiting else ""
        return f"Full{waiting}: you can join the waiting list"
    return f"{session.places_left} place{'s' if session.places_left != 1 else ''} left"


def duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes" if hours == 0 else f"{hours}h {rest}min"


def accessibility(session: SessionView) -> str:
    notes = [session.notes.strip()]
    if session.library is not None and not session.online:
        notes.append(session.library.accessibility.strip())
    text = ". ".join(note.rstrip(".") for note in notes if note)
    return text[:NOTE_LIMIT]


def session_text(session: SessionView, tz: ZoneInfo) -> str:
    """A session in full: what, where, when, places and access."""
    lines = [
        session.activity,
        f"Where: {place_line(session)}",
        f"When: {format_when(session.starts_at, tz)} ({duration(session.duration_minutes)})",
        f"Places: {places_line(session)}",
    ]
    if session.status == "cancelled":
        lines.append("This session has been cancelled.")
    access = accessibility(session)
    if access:
        lines.append(f"Access: {access}")
    return "\n".join(lines)


def session_summary(session: SessionView, tz: ZoneInfo) -> str:
    """One short line for a list or a button."""
    where = "Online" if session.online or session.library is None else session.library.town
    return f"{format_when(session.starts_at, tz)} · {session.activity} · {where}"


def booking_text(booking: BookingView, tz: ZoneInfo) -> str:
    """A booking as its owner sees it: the join link only once they have a place."""
    session = booking.session
    if booking.is_booked:
        status = "You have a place."
    else:
        status = f"You are number {booking.waiting_position} on the waiting list."
    lines = [
        f"{session.activity}: {format_when(session.starts_at, tz)}",
        f"Where: {place_line(session)}",
        status,
    ]
    if booking.join_link:
        lines.append(f"Join online: {booking.join_link}")
    return "\n".join(lines)


def people(count: int) -> str:
    """'1 person', '3 people'."""
    return f"{count} {'person' if count == 1 else 'people'}"
