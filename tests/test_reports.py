"""Reports: every figure in the CSV equals a count made here, in plain Python, from the rows the
test created (not the report's SQL); through the service and through `cuppa-bot report` in a
real process. The chart is a PNG; staff get the summary and the chart in the bot, residents who
forge the buttons are refused with nothing changed; every staff action shows in the audit trail
with who and when.

The world: sittings in November 2026 (some held, some cancelled, one later this month, some
outside the month), places booked, a waiting list that moved, cancellations, attendance marked
by staff, an online session, a person since erased (only their pseudonym left), libraries in
three areas (one never reached), and Reading Friends calls with every outcome.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db.models import (
    Activity,
    Booking,
    CallBooking,
    Library,
    LibrarySession,
    Person,
    Reader,
    StaffAction,
    Volunteer,
)
from bot.services.reports import (
    CSV_COLUMNS,
    Report,
    ReportError,
    SessionFigures,
    chart_png,
    summary,
    to_csv,
    weekly_participation,
)
from handlers.reports import months_back, period
from tests.conftest import STAFF_ID
from tests.world import build_world, resident, snapshot

LONDON = ZoneInfo("Europe/London")
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
# When the report is made: Sat 28 Nov, noon. A sitting on Sun 29 Nov is not held yet.
REPORT_TIME = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ERASED_KEY = "0" * 31 + "e"  # a booking whose person was erased: only the pseudonym is left
PNG = b"\x89PNG\r\n\x1a\n"
REFUSAL = "Sorry, that's only for library staff."
CUPPA_BOT = Path(sys.executable).parent / "cuppa-bot"


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Made:
    sessions: dict[str, int]
    people: dict[str, int]  # name → person id
    keys: dict[str, str]  # name → pseudonym


async def build_report_world(services, clock) -> Made:  # type: ignore[no-untyped-def]
    """The rows behind the report, made through the services where a resident or staff would
    make them, directly where they lie in the past; then the clock moves to REPORT_TIME."""
    world = await build_world(services.db, clock())
    db = services.db
    cuppa, knit, colour = (
        world.activities[name] for name in ("Just a Cuppa", "Knit and Natter", "Colour Me Calm")
    )
    dereham, norwich, mile_cross = (
        world.libraries[name] for name in ("Dereham", "Norwich", "Mile")
    )
    sessions = dict(world.sessions)
    async with db.transaction() as session:
        session.add(
            Library(
                name="Cromer Library",
                town="Cromer",
                area="North Norfolk",
                address="Prince of Wales Road",
                postcode="NR27 9HS",
                latitude=52.93,
                longitude=1.30,
                phone="01263 512850",
            )
        )
        extra = {
            # name: (activity, library or None for online, start, status)
            "early_cuppa": (cuppa, dereham, utc(3, 10), "scheduled"),
            "first_minute": (colour, None, utc(1, 0), "scheduled"),  # local midnight, 1 Nov
            "october": (cuppa, norwich, utc(31, 23, 30, month=10), "scheduled"),  # 31 Oct
            "cancelled_early": (knit, norwich, utc(10, 10), "cancelled"),
            "empty_held": (cuppa, mile_cross, utc(12, 14), "scheduled"),
            "to_cancel": (colour, mile_cross, utc(25, 15), "scheduled"),
            "later": (knit, mile_cross, utc(29, 10), "scheduled"),  # after REPORT_TIME
        }
        rows = {
            name: LibrarySession(
                activity_id=activity,
                library_id=library,
                online=library is None,
                join_link="https://meet.example.org/room" if library is None else "",
                starts_at=starts,
                capacity=10,
                status=status,
            )
            for name, (activity, library, starts, status) in extra.items()
        }
        session.add_all(rows.values())
        await session.flush()
        sessions |= {name: row.id for name, row in rows.items()}

    people: dict[str, int] = {}
    for n in range(1, 9):
        people[f"p{n}"] = (await services.people.consent(100 + n, f"Person {n}")).id
    async with db.transaction() as session:
        keys = {
            name: (await session.get(Person, person_id)).key  # type: ignore[union-attr]
            for name, person_id in people.items()
        }

    async def book(person: str, place: str) -> int:
        outcome = await services.bookings.request_place(people[person], sessions[place])
        assert outcome.booking is not None, (person, place, outcome.result)
        return outcome.booking.id

    # Norwich's cuppa has 2 places: two book, two wait, one gives up and the first waiting
    # gets the place; the other is still waiting when it starts.
    first = await book("p1", "norwich_cuppa")
    for person in ("p2", "p3", "p4"):
        await book(person, "norwich_cuppa")
    assert (await services.bookings.cancel(people["p1"], first)).result == "cancelled"
    changed_mind = {person: await book(person, "dereham_cuppa") for person in ("p1", "p5", "p6")}
    assert (await services.bookings.cancel(people["p6"], changed_mind["p6"])).result == "cancelled"
    for person in ("p2", "p5"):
        await book(person, "dereham_knit")
    for person in ("p7", "p1"):
        await book(person, "online_cuppa")
    await book("p8", "to_cancel")
    assert await services.admin.cancel(STAFF_ID, sessions["to_cancel"]) is not None
    await book("p2", "later")
    await book("p8", "mile_cross_knit")  # 1 Dec: after the period

    # Sittings already past: their bookings as they were left.
    async with db.transaction() as session:

        def past(place: str, person: str | None, status: str = "booked", **more: object) -> None:
            session.add(
                Booking(
                    session_id=sessions[place],
                    person_id=people[person] if person else None,
                    person_key=keys[person] if person else ERASED_KEY,
                    status=status,
                    created_at=utc(1, 9, month=10),
                    **more,
                )
            )

        past("early_cuppa", "p5", attendance="attended")
        past("early_cuppa", None, attendance="attended")
        past("early_cuppa", "p7", attendance="no_show")
        past("early_cuppa", "p6", status="cancelled")
        past("early_cuppa", "p4", was_waitlisted=True)
        past("first_minute", "p6", attendance="attended")
        past("october", "p3", attendance="attended")
        past("cancelled_early", "p2")

    clock.advance((REPORT_TIME - clock()).total_seconds())

    async def booking_of(person: str, place: str) -> int:
        async with db.transaction() as session:
            return int(
                await session.scalar(  # type: ignore[arg-type]
                    select(Booking.id).where(
                        Booking.session_id == sessions[place],
                        Booking.person_id == people[person],
                        Booking.status == "booked",
                    )
                )
            )

    marks = [
        ("p2", "norwich_cuppa", "attended"),
        ("p3", "norwich_cuppa", "no_show"),
        ("p1", "dereham_cuppa", "attended"),
        ("p5", "dereham_cuppa", "attended"),
        ("p2", "dereham_knit", "attended"),
        ("p7", "online_cuppa", "attended"),
        ("p1", "online_cuppa", "no_show"),
    ]
    for person, place, mark in marks:
        booking_id = await booking_of(person, place)
        assert await services.admin.mark_attendance(STAFF_ID, booking_id, mark)

    await add_calls(services)
    return Made(sessions, people, keys)


async def add_calls(services) -> None:  # type: ignore[no-untyped-def]
    """Three volunteers, three readers, and calls with every status and outcome."""
    async with services.db.transaction() as session:
        volunteers = {}
        for letter, telegram_id in (("A", 201), ("B", 202), ("C", 203)):
            person = Person(telegram_id=telegram_id, first_name=letter, consented_at=utc(1, 9))
            session.add(person)
            await session.flush()
            volunteer = Volunteer(person_id=person.id, status="approved", key=letter * 32)
            session.add(volunteer)
            volunteers[letter] = volunteer
        readers = {}
        for name in ("R1", "R2", "R3"):
            reader = Reader(first_name=name, phone_encrypted="sealed", consented_at=utc(1, 9))
            session.add(reader)
            readers[name] = reader
        await session.flush()
        calls = [
            # (reader, start, status, volunteer, outcome)
            ("R1", utc(10, 14), "confirmed", "A", "done"),
            ("R2", utc(12, 14), "confirmed", "A", "no_answer"),
            ("R2", utc(17, 14), "confirmed", "B", "concern"),
            ("R1", utc(20, 14), "confirmed", "B", None),
            ("R3", utc(21, 14), "open", None, None),
            ("R3", utc(22, 14), "offered", None, None),
            ("R1", utc(23, 14), "cancelled", "C", None),
            ("R2", utc(5, 14), "open", "A", None),  # the volunteer stood down: open again
            ("R1", utc(29, 14), "confirmed", "A", None),  # after REPORT_TIME
            ("R3", utc(31, 12, month=10), "confirmed", "A", "done"),  # October
            ("R1", utc(18, 14), "confirmed", "A", "done"),
            ("R3", utc(27, 14), "confirmed", "C", "done"),
        ]
        for reader, starts, status, volunteer, outcome in calls:
            stood_down = status == "open" and volunteer is not None
            session.add(
                CallBooking(
                    reader_id=readers[reader].id,
                    starts_at=starts,
                    status=status,
                    volunteer_id=(
                        volunteers[volunteer].id if volunteer and not stood_down else None
                    ),
                    volunteer_key=volunteer * 32 if volunteer else None,
                    outcome=outcome,
                )
            )


# ---------------------------------------------------------------------------------------------
# The figures, counted independently: plain Python over every row, nothing from the service
# ---------------------------------------------------------------------------------------------


async def every_row(db):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return {
            model: list(await session.scalars(select(model)))
            for model in (Library, Activity, LibrarySession, Booking, CallBooking)
        }


def expected_csv(rows, start: date, end: date, now: datetime) -> dict[tuple[str, str, str], str]:  # type: ignore[no-untyped-def]
    low = datetime.combine(start, time(0), tzinfo=LONDON)
    high = datetime.combine(end + timedelta(days=1), time(0), tzinfo=LONDON)

    def counts(when: datetime) -> bool:
        return low <= when < high and when <= now

    libraries = {library.id: library for library in rows[Library]}
    activities = {activity.id: activity.name for activity in rows[Activity]}
    sittings = [s for s in rows[LibrarySession] if counts(s.starts_at)]
    bookings = rows[Booking]

    def figures(group: list[LibrarySession]) -> dict[str, int]:
        held = {s.id for s in group if s.status == "scheduled"}
        on_held = [b for b in bookings if b.session_id in held]
        places = [b for b in on_held if b.status == "booked"]
        return {
            "sessions held": len(held),
            "sessions cancelled": len([s for s in group if s.status == "cancelled"]),
            "places booked": len(places),
            "attended": len([b for b in places if b.attendance == "attended"]),
            "no-shows": len([b for b in places if b.attendance == "no_show"]),
            "not marked": len([b for b in places if b.attendance is None]),
            "waitlisted": len([b for b in on_held if b.was_waitlisted]),
            "bookings cancelled": len([b for b in on_held if b.status == "cancelled"]),
            "people reached": len({b.person_key for b in places}),
        }

    expected: dict[tuple[str, str, str], str] = {
        ("period", "all", "from"): start.isoformat(),
        ("period", "all", "to"): end.isoformat(),
        ("period", "all", "started by"): now.isoformat(timespec="minutes"),
    }

    def add(section: str, breakdown: str, group: list[LibrarySession]) -> None:
        for name, value in figures(group).items():
            expected[(section, breakdown, name)] = str(value)

    add("sessions", "all", sittings)
    for activity in {activities[s.activity_id] for s in sittings}:
        add(
            "sessions by activity",
            activity,
            [s for s in sittings if activities[s.activity_id] == activity],
        )

    def place(s: LibrarySession) -> str:
        return "Online" if s.online else libraries[s.library_id].name

    for name in {place(s) for s in sittings}:
        add("sessions by library", name, [s for s in sittings if place(s) == name])
    add("sessions online or in person", "online", [s for s in sittings if s.online])
    add("sessions online or in person", "in person", [s for s in sittings if not s.online])

    def area(s: LibrarySession) -> str:
        return "Online" if s.online else libraries[s.library_id].area

    held = {s.id: s for s in sittings if s.status == "scheduled"}
    for name in {library.area for library in libraries.values()} | {"Online"}:
        reached = {
            b.person_key
            for b in bookings
            if b.status == "booked" and b.session_id in held and area(held[b.session_id]) == name
        }
        expected[("people reached by area", name, "people reached")] = str(len(reached))

    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        week = [
            b
            for b in bookings
            if b.status == "booked"
            and b.session_id in held
            and monday
            <= held[b.session_id].starts_at.astimezone(LONDON).date()
            < monday + timedelta(days=7)
        ]
        expected[("weekly participation", monday.isoformat(), "places booked")] = str(len(week))
        attended = [b for b in week if b.attendance == "attended"]
        expected[("weekly participation", monday.isoformat(), "attended")] = str(len(attended))
        monday += timedelta(days=7)

    calls = [c for c in rows[CallBooking] if counts(c.starts_at)]
    call_figures = {
        "calls booked": len(calls),
        "calls cancelled": len([c for c in calls if c.status == "cancelled"]),
        "matched": len([c for c in calls if c.volunteer_key is not None]),
        "unmatched": len([c for c in calls if c.status in ("open", "offered")]),
        "done": len([c for c in calls if c.outcome == "done"]),
        "no answer": len([c for c in calls if c.outcome == "no_answer"]),
        "concerns": len([c for c in calls if c.outcome == "concern"]),
        "not logged": len([c for c in calls if c.status == "confirmed" and c.outcome is None]),
        "volunteers active": len({c.volunteer_key for c in calls if c.status == "confirmed"}),
        "readers with a call done": len({c.reader_id for c in calls if c.outcome == "done"}),
    }
    for name, value in call_figures.items():
        expected[("reading friends", "all", name)] = str(value)
    return expected


def read_csv(text: str) -> dict[tuple[str, str, str], str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    figures = {(section, breakdown, name): value for section, breakdown, name, value in rows[1:]}
    assert len(figures) == len(rows) - 1, "a figure appears twice"
    return figures


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------


async def test_every_csv_figure_equals_the_count_made_from_the_rows(services, clock):
    await build_report_world(services, clock)
    report = await services.reports.build(*NOVEMBER)
    figures = read_csv(to_csv(report))
    expected = expected_csv(await every_row(services.db), *NOVEMBER, clock())
    assert figures == expected

    # And the world really exercises each figure (worked out by hand from the story above).
    assert report.sessions == SessionFigures(
        sessions_held=7,
        sessions_cancelled=2,
        places_booked=13,
        attended=8,
        no_shows=3,
        not_marked=2,
        waitlisted=3,
        bookings_cancelled=3,
        people_reached=8,
    )
    assert report.reached_by_area == {
        "Breckland": 6,
        "North Norfolk": 0,
        "Norwich": 2,
        "Online": 3,
    }
    assert report.areas_not_reached == ["North Norfolk"]
    assert report.by_mode["online"].places_booked == 3
    assert report.by_library["Online"].sessions_held == 2
    assert report.by_library["Mile Cross Library"] == SessionFigures(1, 1, 0, 0, 0, 0, 0, 0, 0)
    calls = report.calls
    assert (calls.calls_booked, calls.calls_cancelled, calls.matched, calls.unmatched) == (
        10,
        1,
        8,
        3,
    )
    assert (calls.done, calls.no_answer, calls.concerns, calls.not_logged) == (3, 1, 1, 1)
    assert (calls.volunteers_active, calls.readers_with_a_call_done) == (3, 2)
    assert [(w.monday.day, w.places_booked, w.attended) for w in weekly_participation(report)] == [
        (26, 1, 1),
        (2, 4, 2),
        (9, 0, 0),
        (16, 0, 0),
        (23, 8, 5),
        (30, 0, 0),
    ]

    # Later, the sitting on Sunday has been held too: the same rows, counted again.
    clock.advance(timedelta(days=2).total_seconds())
    later = read_csv(to_csv(await services.reports.build(*NOVEMBER)))
    assert later == expected_csv(await every_row(services.db), *NOVEMBER, clock())
    assert later[("sessions", "all", "sessions held")] == "8"


async def test_days_are_local_days_across_the_clock_change(services, clock):
    """A sitting at 11:30pm UTC on 1 Oct is on 2 Oct in London (BST): it counts for 2 Oct."""
    clock.now = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    world = await build_world(services.db, clock())
    async with services.db.transaction() as session:
        session.add(
            LibrarySession(
                activity_id=world.activities["Just a Cuppa"],
                library_id=world.libraries["Dereham"],
                starts_at=datetime(2026, 10, 1, 23, 30, tzinfo=UTC),
                capacity=5,
            )
        )
    first = await services.reports.build(date(2026, 10, 1), date(2026, 10, 1))
    second = await services.reports.build(date(2026, 10, 2), date(2026, 10, 2))
    assert (first.sessions.sessions_held, second.sessions.sessions_held) == (0, 1)
    with pytest.raises(ReportError):
        await services.reports.build(date(2026, 10, 2), date(2026, 10, 1))


async def test_the_chart_is_a_png_of_the_weeks(services, clock):
    await build_report_world(services, clock)
    png = chart_png(await services.reports.build(*NOVEMBER))
    assert png.startswith(PNG)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 600 and height > 300
    # A whole year, and a period with nothing in it, draw too.
    assert chart_png(await services.reports.build(date(2026, 1, 1), date(2026, 12, 31))).startswith(
        PNG
    )
    assert chart_png(await services.reports.build(date(2025, 1, 1), date(2025, 1, 5))).startswith(
        PNG
    )


def test_the_summary_fits_a_telegram_message_however_many_libraries():
    many = {f"Library number {n}": SessionFigures(1, 0, n, n, 0, 0, 0, 0, n) for n in range(80)}
    report = Report(
        start=date(2026, 1, 1),
        end=date(2026, 11, 28),
        made_at=REPORT_TIME,
        sessions=SessionFigures(),
        by_activity={"Just a Cuppa": SessionFigures()},
        by_library=many,
        by_mode={"in person": SessionFigures(), "online": SessionFigures()},
        reached_by_area={"Breckland": 0, "Online": 4},
        weeks=[],
    )
    text = summary(report, LONDON)
    assert len(text) <= 4000
    assert "Library number 79:" in text  # the busiest first
    assert "more (the CSV has them all)" in text
    assert text.rstrip().endswith("with a call done")
    assert "Nobody reached in: Breckland" in text


def test_periods_end_today():
    today = date(2026, 5, 31)
    assert period("rp:4w", today) == (date(2026, 5, 4), today)
    assert period("rp:3m", today) == (date(2026, 2, 28), today)
    assert period("rp:y", today) == (date(2026, 1, 1), today)
    assert months_back(date(2026, 1, 15), 3) == date(2025, 10, 15)


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def cuppa_bot(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CUPPA_")}
    env |= {"CUPPA_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}
    program = (
        [str(CUPPA_BOT)]
        if CUPPA_BOT.exists()
        else [sys.executable, "-c", "from bot.cli import main; main()"]
    )
    return subprocess.run(
        [*program, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


async def test_the_command_line_writes_the_same_figures(services, clock, database_url, tmp_path):
    """`cuppa-bot report` in its own process, on its own (real) clock: its CSV equals the
    counts made from the rows as of when it ran, and the run is in the audit trail."""
    await build_report_world(services, clock)
    rows = await every_row(services.db)
    before = datetime.now(UTC)
    out = tmp_path / "november.csv"
    result = cuppa_bot(
        tmp_path, database_url, "report", "--from", "2026-11-01", "--to", "2026-11-30", "--csv",
        str(out),
    )  # fmt: skip
    after = datetime.now(UTC)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Report for 2026-11-01 to 2026-11-30:")
    assert "Every figure is in" in result.stdout

    figures = read_csv(out.read_text(encoding="utf-8"))
    expected = expected_csv(rows, *NOVEMBER, before)
    if expected_csv(rows, *NOVEMBER, after) != expected:
        pytest.skip("a sitting or call started while the command ran")
    started_by = datetime.fromisoformat(figures.pop(("period", "all", "started by")))
    expected.pop(("period", "all", "started by"))
    assert before - timedelta(minutes=1) <= started_by <= after
    assert figures == expected

    [entry] = [e for e in await services.audit.recent() if e.action == "report"]
    assert (entry.staff_telegram_id, entry.detail) == (0, "2026-11-01 to 2026-11-30 (command line)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--from", "2026-11-31", "--to", "2026-11-30"),
            "cuppa-bot: --from '2026-11-31' is not a date: write it like 2026-11-01",
        ),
        (
            ("--from", "2026-11-01", "--to", "next week"),
            "cuppa-bot: --to 'next week' is not a date: write it like 2026-11-01",
        ),
        (
            ("--from", "2026-12-01", "--to", "2026-11-01"),
            "cuppa-bot: --from 2026-12-01 is after --to 2026-11-01",
        ),
        (
            ("--from", "2026-11-01", "--to", "2026-11-30", "--csv", "no/such/folder.csv"),
            "cuppa-bot: cannot write no/such/folder.csv: there is no folder no/such",
        ),
    ],
)
def test_the_command_line_refuses_bad_dates_in_one_line(tmp_path, args, message):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cuppa.db'}"
    result = cuppa_bot(tmp_path, url, "report", *args)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [message]
    assert "Traceback" not in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# In the bot
# ---------------------------------------------------------------------------------------------


async def test_staff_get_the_summary_and_the_chart(people, services, clock, api):
    await build_report_world(services, clock)
    sam = people(STAFF_ID, "Sam")
    await sam.send("/staff")
    [shown] = await sam.press("Reports")
    assert shown.text.endswith("Which period?")
    assert shown.labels() == [
        "Last 4 weeks",
        "Last 3 months",
        "This year so far",
        "Back",
        "Menu",
    ]
    shown_now = await sam.press("Last 4 weeks")
    text, photo = shown_now[0], shown_now[-1]
    assert text.text.startswith("Participation, Sun 1 Nov 2026 to Sat 28 Nov 2026")
    assert len(text.text) <= 4096
    assert "• 7 sessions held, 2 cancelled" in text.text
    assert "• 13 places booked: 8 came, 3 no-shows, 2 not marked" in text.text
    assert "• North Norfolk: 0" in text.text
    assert "Nobody reached in: North Norfolk" in text.text
    assert "• 10 calls booked, 8 matched, 3 unmatched, 1 cancelled" in text.text
    assert len(api.sent("sendPhoto")) == 1
    assert photo.document is not None and photo.document[1].startswith(PNG)
    assert photo.text.startswith("Places booked and attended each week")
    assert photo.labels() == ["Another period", "Staff menu", "Menu"]

    [entry] = [e for e in await services.audit.recent() if e.action == "report"]
    assert (entry.staff_telegram_id, entry.at) == (STAFF_ID, clock())
    assert entry.detail == "2026-11-01 to 2026-11-28 (in the bot)"

    [shown] = await sam.press("Another period")
    assert shown.labels()[:3] == ["Last 4 weeks", "Last 3 months", "This year so far"]
    await sam.press("This year so far")
    assert len(api.sent("sendPhoto")) == 2


@pytest.mark.parametrize("data", ["rp", "rp:4w", "rp:3m", "rp:y", "rp:zz"])
async def test_a_resident_forging_a_report_button_is_refused(people, services, clock, api, data):
    await build_report_world(services, clock)
    margaret = await resident(people, 401, "Margaret")
    before = await snapshot(services.db)
    actions_before = len(await services.audit.recent(1000))
    [shown] = await margaret.press_data(data)
    assert shown.text.startswith(REFUSAL)
    assert await snapshot(services.db) == before
    assert len(await services.audit.recent(1000)) == actions_before
    assert api.sent("sendPhoto") == []


async def test_recent_staff_actions_say_who_and_when(people, services, clock):
    made = await build_report_world(services, clock)
    # Every staff action in the world was recorded, by whom and at the time it happened.
    async with services.db.transaction() as session:
        recorded = list(await session.scalars(select(StaffAction).order_by(StaffAction.id)))
    assert [(r.staff_telegram_id, r.action) for r in recorded] == [
        (STAFF_ID, "cancel session"),
        *[(STAFF_ID, "attendance")] * 7,
    ]
    assert recorded[0].created_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert recorded[0].detail == f"session {made.sessions['to_cancel']}"
    assert {r.created_at for r in recorded[1:]} == {REPORT_TIME}

    reader = await services.readers.register(
        first_name="Edna", phone="01603 774774", interests=[], needs="", staff_id=9002
    )
    await services.reports.build(*NOVEMBER, staff_id=0, via="command line")
    sam = people(STAFF_ID, "Sam")
    await sam.send("/staff")
    await sam.press("Reports")
    await sam.press("Last 3 months")
    await sam.send("/staff")
    [shown] = await sam.press("Recent staff actions")
    lines = shown.text.splitlines()
    assert lines[0] == "Recent staff actions, newest first:"
    assert lines[2:5] == [
        "Sat 28 Nov, 12pm, you: report: 2026-08-28 to 2026-11-28 (in the bot)",
        "Sat 28 Nov, 12pm, command line: report: 2026-11-01 to 2026-11-30 (command line)",
        f"Sat 28 Nov, 12pm, staff 9002: register reader: reader {reader.id}",
    ]
    assert "Sat 28 Nov, 12pm, you: attendance: booking " in shown.text
    assert (
        f"Tue 24 Nov, 9am, you: cancel session: session {made.sessions['to_cancel']}" in shown.text
    )
