"""Pieces the staff screens share (labels, day/time buttons, answer checks), kept in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import actions
from bot import staff_actions as sa
from bot.clock import at_local, format_day, format_time, format_when
from bot.services.staff_lists import StaffLists
from bot.services.staff_sessions import MAX_CAPACITY, MAX_LINK, MAX_NOTES
from bot.services.views import Button, Keyboard, SessionView
from bot.wording import duration, place_line
from handlers.context import CuppaContext
from handlers.forms import rows_of

TIMES = (time(10), time(10, 30), time(11), time(14), time(14, 30), time(18))
LENGTHS = {60: "1 hour", 90: "1½ hours", 120: "2 hours"}
PLACES = (8, 10, 12, 15, 20, 30)
DAYS_OFFERED = 14
FURTHEST = timedelta(days=365)

# Inside the staff screens "Menu" also closes any open form.
LEAVE_BUTTON = Button("Menu", sa.LEAVE)
TAP_A_BUTTON = "Please tap one of the buttons below, or send /cancel to stop."


# ---------------------------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------------------------


def weeks(count: int) -> str:
    return f"{count} {'week' if count == 1 else 'weeks'}"


def time_label(start: time) -> str:
    """'10:30am', '2pm'."""
    return format_time(datetime.combine(date(2000, 1, 1), start))


def length_label(minutes: int) -> str:
    return LENGTHS.get(minutes) or duration(minutes)


def nav(back: str) -> list[Button]:
    return [Button("Back", back), LEAVE_BUTTON]


def lists(context: CuppaContext) -> StaffLists:
    services = context.services
    return StaffLists(services.db, services.config, services.clock)


def local_now(context: CuppaContext) -> datetime:
    return context.services.clock().astimezone(context.services.config.tz)


def day_buttons(today: date, make: Callable[[date], str]) -> Keyboard:
    """The next fortnight, two to a row."""
    days = [today + timedelta(days=n) for n in range(DAYS_OFFERED)]
    return rows_of([Button(format_day(day), make(day)) for day in days], 2)


def time_buttons(make: Callable[[time], str]) -> Keyboard:
    return rows_of([Button(time_label(start), make(start)) for start in TIMES], 3)


# Checks on answers: None when fine, otherwise what to say (kindly) before asking again.
def check_day(context: CuppaContext, day: date) -> str | None:
    today = local_now(context).date()
    if day < today:
        return "That day has already passed. Please choose today or a day after."
    if day > today + FURTHEST:
        return "Please choose a day within the next year."
    return None


def check_start(context: CuppaContext, day: date, start: time) -> str | None:
    if at_local(day, start, context.services.config.tz) <= context.services.clock():
        return "That time has already passed. Please choose a later time."
    return None


def check_link(link: str) -> str | None:
    if len(link) > MAX_LINK:
        return f"That link is too long: it can be up to {MAX_LINK} characters."
    scheme, _, rest = link.partition("://")
    if scheme not in ("https", "http") or not rest or len(link.split()) != 1:
        return "That doesn't look like a join link. Please paste the whole link, starting https://."
    return None


def check_capacity(capacity: int) -> str | None:
    if not 1 <= capacity <= MAX_CAPACITY:
        return f"Please choose between 1 and {MAX_CAPACITY} places."
    return None


def check_notes(notes: str) -> str | None:
    if len(notes) > MAX_NOTES:
        return (
            f"That's a bit long: notes can be up to {MAX_NOTES} characters. "
            "Please shorten them and send them again."
        )
    return None


def read_capacity(text: str) -> tuple[int | None, str | None]:
    number = actions.plain_number(text.strip())
    if number is None:
        return None, "Please tap a number, or type one like 12."
    return number, check_capacity(number)


def session_details(view: SessionView, weekly: bool, now: datetime, tz: ZoneInfo) -> str:
    """A session as staff see it: what, where, when, places, who has booked."""
    lines = [
        f"{view.activity}{', every week' if weekly else ''}",
        f"Where: {place_line(view)}",
        f"When: {format_when(view.starts_at, tz)} ({duration(view.duration_minutes)})",
        f"Places: {view.capacity}",
        f"{view.booked} booked, {view.waiting} waiting",
        f"Notes: {view.notes or 'none'}",
    ]
    if view.status == "cancelled":
        lines.append("This session has been cancelled.")
    elif view.starts_at <= now:
        lines.append("This session has started.")
    return "\n".join(lines)


def when_of(view: SessionView, context: CuppaContext) -> str:
    return format_when(view.starts_at, context.services.config.tz)
