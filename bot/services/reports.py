"""Participation reports: who came, who was called, and who is not being reached.

A report covers the local days `start` to `end` inclusive (Europe/London by default): sessions and
calls whose start time falls from local midnight at the beginning of `start` to local midnight
at the end of `end`, AND that had already started when the report was made. A sitting later
today, or later in the period, is not yet "held" and is left out of every figure.

Sessions (per sitting in the period):
- sessions held: status "scheduled" (not cancelled) and started;
- sessions cancelled: status "cancelled" (counted once its start time has passed);
- places booked: bookings with status "booked" on a held session (a waiting-list place that was
  promoted is a place booked; someone still waiting when it started is not);
- attended / no-shows / not marked: those places marked "attended", "no_show", or not marked;
- waitlisted: bookings on a held session that were ever on its waiting list (was_waitlisted),
  whatever happened next;
- bookings cancelled: bookings on a held session that the person cancelled (status "cancelled");
- people reached: different people (counted by their pseudonym, person_key, so erased people
  still count and nobody is named) with a place booked on a held session.
Each figure is given in total, by activity, by library (online sittings are their own "Online"
row), and online against in person.

People reached by area: the people-reached count by the library's area (online sittings under
"Online"). Every area with a library is listed, with 0 where nobody was reached, and so is
"Online": the areas at 0 are the ones to look at.

Weekly participation: places booked and attended per week (Monday to Sunday, labelled by its
Monday), counting only held sessions inside the period.

Reading Friends (per call booking whose start is in the period and has passed):
- calls booked: every call booking, whatever became of it;
- calls cancelled: status "cancelled";
- matched: a volunteer confirmed it at some point (volunteer_key set);
- unmatched: still "open" or "offered" when it started: nobody took it;
- done / no answer / concerns: the outcome the volunteer logged;
- not logged: confirmed, started, and no outcome logged yet;
- volunteers active: different volunteers (by pseudonym) with a confirmed call;
- readers with a call done: different readers with a call logged "done".

The CSV (`to_csv`) has one row per figure, with the columns section, breakdown, name, value:
for example `sessions by activity,Just a Cuppa,places booked,12`. Nothing here knows Telegram.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock, format_day, format_when, local_midnight
from bot.config import Config
from bot.db.database import Database
from bot.db.models import Activity, Booking, CallBooking, Library, LibrarySession
from bot.services.audit import record

ONLINE = "Online"
IN_PERSON = "in person"
ONLINE_MODE = "online"
TEXT_LIMIT = 4000  # Telegram's is 4096
CSV_COLUMNS = ("section", "breakdown", "name", "value")

# CSV section names.
PERIOD = "period"
SESSIONS = "sessions"
BY_ACTIVITY = "sessions by activity"
BY_LIBRARY = "sessions by library"
BY_MODE = "sessions online or in person"
REACHED = "people reached by area"
WEEKLY = "weekly participation"
CALLS = "reading friends"
ALL = "all"


class ReportError(ValueError):
    """A period that cannot be reported on, in words for the person who asked."""


@dataclass(frozen=True)
class SessionFigures:
    sessions_held: int = 0
    sessions_cancelled: int = 0
    places_booked: int = 0
    attended: int = 0
    no_shows: int = 0
    not_marked: int = 0
    waitlisted: int = 0
    bookings_cancelled: int = 0
    people_reached: int = 0

    def plus(self, other: SessionFigures) -> SessionFigures:
        """The sum of two groups' counts, except people reached (people can be in both)."""
        return SessionFigures(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in fields(self)
                if f.name != "people_reached"
            },
            people_reached=self.people_reached,
        )


@dataclass(frozen=True)
class CallFigures:
    calls_booked: int = 0
    calls_cancelled: int = 0
    matched: int = 0
    unmatched: int = 0
    done: int = 0
    no_answer: int = 0
    concerns: int = 0
    not_logged: int = 0
    volunteers_active: int = 0
    readers_with_a_call_done: int = 0


@dataclass(frozen=True)
class WeekFigures:
    monday: date
    places_booked: int
    attended: int


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    made_at: datetime  # sittings and calls must have started by then to count
    sessions: SessionFigures
    by_activity: dict[str, SessionFigures]
    by_library: dict[str, SessionFigures]
    by_mode: dict[str, SessionFigures]  # "online" and "in person", always both
    reached_by_area: dict[str, int]  # every area, then "Online"; 0 where nobody was reached
    weeks: list[WeekFigures]
    calls: CallFigures = field(default_factory=CallFigures)

    @property
    def areas_not_reached(self) -> list[str]:
        return [area for area, count in self.reached_by_area.items() if count == 0]


# Names of the figures as the CSV and the summary show them.
SESSION_NAMES = {
    "sessions_held": "sessions held",
    "sessions_cancelled": "sessions cancelled",
    "places_booked": "places booked",
    "attended": "attended",
    "no_shows": "no-shows",
    "not_marked": "not marked",
    "waitlisted": "waitlisted",
    "bookings_cancelled": "bookings cancelled",
    "people_reached": "people reached",
}
CALL_NAMES = {
    "calls_booked": "calls booked",
    "calls_cancelled": "calls cancelled",
    "matched": "matched",
    "unmatched": "unmatched",
    "done": "done",
    "no_answer": "no answer",
    "concerns": "concerns",
    "not_logged": "not logged",
    "volunteers_active": "volunteers active",
    "readers_with_a_call_done": "readers with a call done",
}


NO_LIBRARY = "(no library)"


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows of the group meet the condition (0, never NULL, for an empty group)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _mondays(start: date, end: date) -> list[date]:
    first, last = _monday(start), _monday(end)
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def _sorted(groups: dict[str, SessionFigures]) -> dict[str, SessionFigures]:
    """By name, with Online (and any sitting without a library) last."""
    return dict(sorted(groups.items(), key=lambda item: (item[0] in (ONLINE, NO_LIBRARY), item[0])))


class Reports:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self._db = db
        self._config = config
        self._clock = clock

    def bounds(self, start: date, end: date) -> tuple[datetime, datetime]:
        """UTC bounds [from, to) of the local days start to end inclusive."""
        if start > end:
            raise ReportError("the start date is after the end date")
        tz = self._config.tz
        return local_midnight(start, tz), local_midnight(end + timedelta(days=1), tz)

    async def build(
        self, start: date, end: date, *, staff_id: int | None = None, via: str = ""
    ) -> Report:
        """The figures for the local days start to end inclusive (see the module's notes).

        With staff_id the run goes in the audit trail, in the transaction that reads the figures.
        """
        low, high = self.bounds(start, end)
        now = self._clock()
        async with self._db.transaction() as session:
            activities: dict[int, str] = {
                row.id: row.name
                for row in await session.execute(select(Activity.id, Activity.name))
            }
            libraries: dict[int, tuple[str, str]] = {
                row.id: (row.name, row.area)
                for row in await session.execute(select(Library.id, Library.name, Library.area))
            }
            sittings = list(await session.execute(self._sittings(low, high, now)))
            people = await self._people(session, low, high, now)
            calls = await self._calls(session, low, high, now)
            if staff_id is not None:
                detail = f"{start.isoformat()} to {end.isoformat()}"
                record(session, staff_id, "report", f"{detail} ({via})" if via else detail, now)

        def place(online: bool, library_id: int | None) -> str:
            if online:
                return ONLINE
            return libraries[library_id][0] if library_id in libraries else NO_LIBRARY

        tz = self._config.tz
        total = SessionFigures()
        by_activity: dict[str, SessionFigures] = {}
        by_library: dict[str, SessionFigures] = {}
        by_mode = {IN_PERSON: SessionFigures(), ONLINE_MODE: SessionFigures()}
        weeks = {monday: [0, 0] for monday in _mondays(start, end)}
        for activity_id, library_id, online, status, starts_at, *counts in sittings:
            if status == "scheduled":
                figures = SessionFigures(1, 0, *(int(n) for n in counts))
                week = weeks[_monday(starts_at.astimezone(tz).date())]
                week[0] += figures.places_booked
                week[1] += figures.attended
            else:
                figures = SessionFigures(sessions_cancelled=1)
            activity = activities.get(activity_id, "")
            library = place(online, library_id)
            mode = ONLINE_MODE if online else IN_PERSON
            total = total.plus(figures)
            by_activity[activity] = by_activity.get(activity, SessionFigures()).plus(figures)
            by_library[library] = by_library.get(library, SessionFigures()).plus(figures)
            by_mode[mode] = by_mode[mode].plus(figures)

        reached_activity = {activities.get(k, ""): n for k, n in people["activity"].items()}
        reached_library = {place(k < 0, k): n for k, n in people["library"].items()}
        reached_mode = {ONLINE_MODE if k else IN_PERSON: n for k, n in people["mode"].items()}
        areas = sorted({area for _, area in libraries.values()})
        if NO_LIBRARY in people["area"]:
            areas.append(NO_LIBRARY)  # in-person sittings with no library: should be none
        areas.append(ONLINE)
        return Report(
            start=start,
            end=end,
            made_at=now,
            sessions=replace(total, people_reached=people["all"].get(ALL, 0)),
            by_activity=_sorted(
                {
                    name: replace(f, people_reached=reached_activity.get(name, 0))
                    for name, f in by_activity.items()
                }
            ),
            by_library=_sorted(
                {
                    name: replace(f, people_reached=reached_library.get(name, 0))
                    for name, f in by_library.items()
                }
            ),
            by_mode={
                mode: replace(f, people_reached=reached_mode.get(mode, 0))
                for mode, f in by_mode.items()
            },
            reached_by_area={area: people["area"].get(area, 0) for area in areas},
            weeks=[WeekFigures(monday, b, a) for monday, (b, a) in weeks.items()],
            calls=calls,
        )

    @staticmethod
    def _sittings(low: datetime, high: datetime, now: datetime) -> Select[tuple[object, ...]]:
        """One row per sitting that started in the period, with its bookings counted."""
        booked = Booking.status == "booked"
        return (
            select(
                LibrarySession.activity_id,
                LibrarySession.library_id,
                LibrarySession.online,
                LibrarySession.status,
                LibrarySession.starts_at,
                _count(booked),
                _count(booked & (Booking.attendance == "attended")),
                _count(booked & (Booking.attendance == "no_show")),
                _count(booked & Booking.attendance.is_(None)),
                _count(Booking.was_waitlisted.is_(True)),
                _count(Booking.status == "cancelled"),
            )
            .outerjoin(Booking, Booking.session_id == LibrarySession.id)
            .where(
                LibrarySession.starts_at >= low,
                LibrarySession.starts_at < high,
                LibrarySession.starts_at <= now,
            )
            .group_by(
                LibrarySession.id,
                LibrarySession.activity_id,
                LibrarySession.library_id,
                LibrarySession.online,
                LibrarySession.status,
                LibrarySession.starts_at,
            )
        )

    @staticmethod
    async def _people(
        session: AsyncSession, low: datetime, high: datetime, now: datetime
    ) -> dict[str, dict[Any, int]]:
        """Different people (by pseudonym) with a place on a held sitting: in all, and per
        activity, library (-1 for online), online or not, and area ("Online" for online)."""
        online = LibrarySession.online.is_(True)
        groups: dict[str, ColumnElement[Any]] = {
            "all": literal(ALL),
            "activity": LibrarySession.activity_id,
            "library": case((online, -1), else_=LibrarySession.library_id),
            "mode": LibrarySession.online,
            "area": case((online, ONLINE), else_=func.coalesce(Library.area, NO_LIBRARY)),
        }
        counted: dict[str, dict[Any, int]] = {}
        for name, key in groups.items():
            rows = await session.execute(
                select(key.label("key"), func.count(func.distinct(Booking.person_key)))
                .select_from(Booking)
                .join(LibrarySession, LibrarySession.id == Booking.session_id)
                .outerjoin(Library, Library.id == LibrarySession.library_id)
                .where(
                    LibrarySession.status == "scheduled",
                    LibrarySession.starts_at >= low,
                    LibrarySession.starts_at < high,
                    LibrarySession.starts_at <= now,
                    Booking.status == "booked",
                    Booking.person_key != "",
                )
                .group_by(key)
            )
            counted[name] = {key_value: int(n) for key_value, n in rows}
        return counted

    @staticmethod
    async def _calls(
        session: AsyncSession, low: datetime, high: datetime, now: datetime
    ) -> CallFigures:
        status, outcome = CallBooking.status, CallBooking.outcome
        confirmed = status == "confirmed"
        row = (
            await session.execute(
                select(
                    func.count(),
                    _count(status == "cancelled"),
                    _count(CallBooking.volunteer_key.is_not(None)),
                    _count(status.in_(("open", "offered"))),
                    _count(outcome == "done"),
                    _count(outcome == "no_answer"),
                    _count(outcome == "concern"),
                    _count(confirmed & outcome.is_(None)),
                    func.count(func.distinct(case((confirmed, CallBooking.volunteer_key)))),
                    func.count(func.distinct(case((outcome == "done", CallBooking.reader_id)))),
                ).where(
                    CallBooking.starts_at >= low,
                    CallBooking.starts_at < high,
                    CallBooking.starts_at <= now,
                )
            )
        ).one()
        return CallFigures(*(int(n or 0) for n in row))


# ---------------------------------------------------------------------------------------------
# The report as a spreadsheet, as words, and as a chart
# ---------------------------------------------------------------------------------------------


def csv_rows(report: Report) -> list[tuple[str, str, str, str | int]]:
    """One row per figure: (section, breakdown, name, value)."""
    rows: list[tuple[str, str, str, str | int]] = [
        (PERIOD, ALL, "from", report.start.isoformat()),
        (PERIOD, ALL, "to", report.end.isoformat()),
        (PERIOD, ALL, "started by", report.made_at.isoformat(timespec="minutes")),
    ]

    def figures(section: str, breakdown: str, values: SessionFigures) -> None:
        rows.extend(
            (section, breakdown, name, getattr(values, attribute))
            for attribute, name in SESSION_NAMES.items()
        )

    figures(SESSIONS, ALL, report.sessions)
    for section, groups in (
        (BY_ACTIVITY, report.by_activity),
        (BY_LIBRARY, report.by_library),
        (BY_MODE, report.by_mode),
    ):
        for breakdown, values in groups.items():
            figures(section, breakdown, values)
    rows.extend((REACHED, area, "people reached", n) for area, n in report.reached_by_area.items())
    for week in weekly_participation(report):
        monday = week.monday.isoformat()
        rows.append((WEEKLY, monday, "places booked", week.places_booked))
        rows.append((WEEKLY, monday, "attended", week.attended))
    rows.extend(
        (CALLS, ALL, name, getattr(report.calls, attribute))
        for attribute, name in CALL_NAMES.items()
    )
    return rows


def to_csv(report: Report) -> str:
    """The report for a spreadsheet: a header, then one row per figure."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(report))
    return out.getvalue()


def weekly_participation(report: Report) -> list[WeekFigures]:
    """Places booked and attended per week of the period (Monday to Sunday), oldest first."""
    return list(report.weeks)


def day_label(day: date) -> str:
    """'Sun 1 Nov 2026'."""
    return f"{format_day(day)} {day.year}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _session_line(name: str, f: SessionFigures) -> str:
    return (
        f"• {name}: {f.sessions_held} held, "
        + (f"{f.sessions_cancelled} cancelled, " if f.sessions_cancelled else "")
        + f"{_plural(f.places_booked, 'place')} booked, {f.attended} came, "
        f"{_plural(f.people_reached, 'person', 'people')}"
    )


def summary(report: Report, tz: ZoneInfo, limit: int = TEXT_LIMIT) -> str:
    """The report in plain words, within `limit` characters: if the library list is too long,
    its smallest rows give way to a count of the rest (the CSV always has them all)."""
    s, c = report.sessions, report.calls
    head = [
        f"Participation, {day_label(report.start)} to {day_label(report.end)}",
        f"(sessions and calls that had started by {format_when(report.made_at, tz)})",
        "",
        "Sessions",
        f"• {_plural(s.sessions_held, 'session')} held, {s.sessions_cancelled} cancelled",
        f"• {_plural(s.places_booked, 'place')} booked: {s.attended} came, "
        f"{_plural(s.no_shows, 'no-show')}, {s.not_marked} not marked",
        f"• {_plural(s.waitlisted, 'booking')} went on a waiting list; "
        f"{_plural(s.bookings_cancelled, 'booking')} cancelled",
        f"• {_plural(s.people_reached, 'person', 'people')} reached",
        "",
        "Online and in person",
        *(_session_line(mode.capitalize(), f) for mode, f in report.by_mode.items()),
        "",
        "By activity",
        *(_session_line(name, f) for name, f in report.by_activity.items()),
    ]
    if not report.by_activity:
        head.append("• No sessions in this period")
    not_reached = report.areas_not_reached
    tail = [
        "",
        "People reached by area (people with a place at a session held there)",
        *(f"• {area}: {n}" for area, n in report.reached_by_area.items()),
        f"Nobody reached in: {', '.join(not_reached)}" if not_reached else "Every area reached.",
        "",
        "Reading Friends",
        f"• {_plural(c.calls_booked, 'call')} booked, {c.matched} matched, "
        f"{c.unmatched} unmatched, {c.calls_cancelled} cancelled",
        f"• {c.done} done, {c.no_answer} no answer, {_plural(c.concerns, 'concern')}, "
        f"{c.not_logged} not logged",
        f"• {_plural(c.volunteers_active, 'volunteer')} active; "
        f"{_plural(c.readers_with_a_call_done, 'reader')} with a call done",
    ]
    libraries = sorted(
        report.by_library.items(), key=lambda item: (-item[1].places_booked, item[0])
    )
    lines = [_session_line(name, f) for name, f in libraries]
    for shown in range(len(lines), -1, -1):
        more = len(lines) - shown
        rest = [f"• …and {more} more (the CSV has them all)"] if more else []
        none = [] if libraries else ["• No sessions in this period"]
        middle = ["", "By library (most places booked first)", *lines[:shown], *rest, *none]
        text = "\n".join([*head, *middle, *tail])
        if len(text) <= limit:
            return text
    return text[:limit]


def chart_png(report: Report) -> bytes:
    """A bar chart of places booked and attended per week, as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    weeks = weekly_participation(report)
    figure = Figure(figsize=(9, 4.8), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(weeks)))
    width = 0.4
    booked = axes.bar(
        [x - width / 2 for x in positions],
        [w.places_booked for w in weeks],
        width,
        label="Places booked",
        color="#9ecae1",
    )
    attended = axes.bar(
        [x + width / 2 for x in positions],
        [w.attended for w in weeks],
        width,
        label="Attended",
        color="#08519c",
    )
    if len(weeks) <= 16:
        for bars in (booked, attended):
            axes.bar_label(bars, fontsize=8, padding=2)
    step = max(1, -(-len(weeks) // 14))
    axes.set_xticks(positions[::step])
    axes.set_xticklabels(
        [
            f"{w.monday.day} {w.monday:%b}"
            + (f" {w.monday.year}" if w.monday.year != report.end.year else "")
            for w in weeks[::step]
        ],
        rotation=45 if len(weeks) > 8 else 0,
        ha="right" if len(weeks) > 8 else "center",
    )
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0, top=max([1, *(w.places_booked for w in weeks)]) * 1.15)
    axes.set_xlabel("Week beginning")
    axes.set_ylabel("Places")
    axes.set_title(
        f"Weekly participation, {day_label(report.start)} to {day_label(report.end)}",
        fontsize=12,
    )
    if not any(w.places_booked for w in weeks):
        axes.text(
            0.5,
            0.5,
            "No places booked on sessions held in this period",
            transform=axes.transAxes,
            ha="center",
            va="center",
            color="#555555",
        )
    axes.legend(loc="upper left", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
