"""Local time: how dates read to people, and the day ranges they ask for.

Everything is stored in UTC; these functions are the only place local wall-clock time is worked
out, so clock changes are handled once, by zoneinfo.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def format_when(moment: datetime, tz: ZoneInfo) -> str:
    """'Tue 3 Dec, 10:30am' in the service's time zone."""
    local = moment.astimezone(tz)
    return f"{format_day(local)}, {format_time(local)}"


def format_day(day: date) -> str:
    """'Tue 3 Dec' (a datetime gives its own day)."""
    return f"{day:%a} {day.day} {day:%b}"


def format_time(local: datetime) -> str:
    """'10:30am', '2pm': the minutes only when there are some."""
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` starts in `tz`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def at_local(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day (the same 10:30am in GMT and BST)."""
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def day_range(
    which: str, now: datetime, tz: ZoneInfo, horizon_days: int
) -> tuple[datetime, datetime]:
    """UTC bounds for 'today', 'week' (to the end of Sunday), 'next' (next Mon-Sun) or 'any'."""
    today = now.astimezone(tz).date()
    if which == "today":
        return now, local_midnight(today + timedelta(days=1), tz)
    if which == "week":
        return now, local_midnight(today + timedelta(days=7 - today.weekday()), tz)
    if which == "next":
        monday = today + timedelta(days=7 - today.weekday())
        return local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)
    return now, local_midnight(today + timedelta(days=horizon_days + 1), tz)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (earlier if negative), or that month's last day
    if it is shorter."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
