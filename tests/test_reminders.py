"""Reminders: made with each booked place, sent at their time and never after the session has
started, "Still coming?" Yes / I can't make it, the choice in settings, and clock changes.

Conversations through the real Application and the local Bot API stand-in; the test moves the
clock and `dispatcher.sweep()` sends whatever is due.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import actions
from bot.db.models import Booking, OutboxMessage
from bot.delivery.dispatcher import EXPIRED
from bot.services.reminders import describe_offsets, reminder_time
from bot.services.staff_sessions import SessionPlan
from tests.conftest import STAFF_ID
from tests.world import book, resident, snapshot

LONDON = ZoneInfo("Europe/London")
HOUR = 3600
NO_SUCH_BOOKING = "Sorry, I can't find that booking."


async def reminders(services, chat_id: int | None = None, status: str | None = None):
    """(not_before, expires_at, status) of reminder rows, soonest first."""
    async with services.db.transaction() as session:
        stmt = select(OutboxMessage).where(OutboxMessage.kind == "reminder")
        if chat_id is not None:
            stmt = stmt.where(OutboxMessage.chat_id == chat_id)
        if status is not None:
            stmt = stmt.where(OutboxMessage.status == status)
        rows = await session.scalars(stmt.order_by(OutboxMessage.not_before, OutboxMessage.id))
        return [(row.not_before, row.expires_at, row.status) for row in rows]


def advance_to(clock, moment: datetime) -> None:
    clock.advance((moment - clock()).total_seconds())


async def open_settings(person):
    await person.send("/start")
    [shown] = await person.press("My library and settings")
    return shown


# ---------------------------------------------------------------------------------------------
# Made with the booking, sent on time, never late
# ---------------------------------------------------------------------------------------------


async def test_booking_makes_reminders_a_day_and_an_hour_before(world, people, services, clock):
    margaret = await resident(people, 401, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])  # Wed 25 Nov, 10am (GMT)
    starts = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert await reminders(services, 401) == [
        (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), starts, "pending"),
        (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), starts, "pending"),
    ]


async def test_each_reminder_goes_at_its_time(world, people, services, clock, dispatcher):
    margaret = await resident(people, 402, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    seen = len(margaret.screen())

    assert (await dispatcher.sweep()).sent == 0
    clock.advance(HOUR - 1)  # a second before the day-before reminder
    assert (await dispatcher.sweep()).sent == 0
    assert len(margaret.screen()) == seen

    clock.advance(1)
    assert (await dispatcher.sweep()).sent == 1
    day_before = margaret.last
    assert day_before.text.startswith("A reminder: Just a Cuppa is tomorrow at 10am.")
    assert "Where: Dereham Library, 59 High Street, Dereham NR19 1DZ" in day_before.text
    assert day_before.text.endswith("Still coming?")
    assert day_before.labels() == ["Yes, I'll be there", "I can't make it"]
    assert (await dispatcher.sweep()).sent == 0  # sent once

    advance_to(clock, datetime(2026, 11, 25, 8, 59, tzinfo=UTC))
    assert (await dispatcher.sweep()).sent == 0
    clock.advance(60)
    assert (await dispatcher.sweep()).sent == 1
    hour_before = margaret.last
    assert hour_before.text.startswith("A reminder: Just a Cuppa starts at 10am today.")
    assert hour_before.labels() == []
    assert [status for *_, status in await reminders(services, 402)] == ["sent", "sent"]


async def test_never_sent_after_the_session_has_started(world, people, services, clock, dispatcher):
    margaret = await resident(people, 403, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    clock.advance(HOUR)
    assert (await dispatcher.sweep()).sent == 1  # the day before, on time
    seen = len(margaret.screen())
    # The delivery worker was down through the hour before: it comes back after the start.
    advance_to(clock, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    report = await dispatcher.sweep()
    assert report.sent == 0
    assert len(margaret.screen()) == seen
    async with services.db.transaction() as session:
        late = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.kind == "reminder",
                OutboxMessage.not_before == datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
            )
        )
        assert late.status == "cancelled"
        assert late.last_error == EXPIRED


async def test_both_expire_when_nothing_ran_until_after_the_start(
    world, people, services, clock, dispatcher
):
    margaret = await resident(people, 404, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    seen = len(margaret.screen())
    clock.advance(26 * HOUR)
    assert (await dispatcher.sweep()).sent == 0
    assert len(margaret.screen()) == seen
    assert [status for *_, status in await reminders(services, 404)] == ["cancelled"] * 2


async def test_online_reminder_carries_the_join_link(world, people, services, clock, dispatcher):
    margaret = await resident(people, 405, "Margaret")
    await book(margaret, world.sessions["online_cuppa"])  # Wed 25 Nov, 11am
    clock.advance(2 * HOUR)
    assert (await dispatcher.sweep()).sent == 1
    assert margaret.last.text.startswith("A reminder: Just a Cuppa is tomorrow at 11am.")
    assert "Where: Online" in margaret.last.text
    assert "Join online: https://meet.example.org/secret-room" in margaret.last.text
    advance_to(clock, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert (await dispatcher.sweep()).sent == 1
    assert "Join online: https://meet.example.org/secret-room" in margaret.last.text


async def test_a_waiting_list_place_gets_no_reminders(world, people, services):
    session_id = world.sessions["norwich_cuppa"]  # two places
    for n in range(3):
        await book(await resident(people, 410 + n, f"P{n}"), session_id)
    assert len(await reminders(services, 410)) == 2
    assert await reminders(services, 412) == []


# ---------------------------------------------------------------------------------------------
# Still coming?
# ---------------------------------------------------------------------------------------------


async def test_yes_ill_be_there_is_warm_and_changes_nothing(
    world, people, services, clock, dispatcher
):
    margaret = await resident(people, 420, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    clock.advance(HOUR)
    await dispatcher.sweep()
    before = await snapshot(services.db)
    [shown] = await margaret.press("Yes, I'll be there")
    assert shown.text == "Lovely, thank you, Margaret. See you at Just a Cuppa!"
    assert shown.labels() == ["My bookings", "Menu"]
    assert await snapshot(services.db) == before
    assert len(await reminders(services, 420, "pending")) == 1  # the hour-before still to come


async def test_i_cant_make_it_gives_the_place_to_the_first_waiting(
    world, people, services, clock, dispatcher
):
    session_id = world.sessions["norwich_cuppa"]  # two places, Thu 26 Nov 10am
    ann, bob, cat, dan = [
        await resident(people, 430 + n, name) for n, name in enumerate(["Ann", "Bob", "Cat", "Dan"])
    ]
    for person in (ann, bob, cat, dan):
        await book(person, session_id)
    advance_to(clock, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert (await dispatcher.sweep()).sent == 2  # Ann's and Bob's day-before reminders
    assert ann.last.text.startswith("A reminder: Just a Cuppa is tomorrow at 10am.")

    [shown] = await ann.press("I can't make it")
    assert shown.text == (
        "Thank you for letting us know. I've cancelled your place at Just a Cuppa, "
        "Thu 26 Nov, 10am, so someone else can have it. I hope to see you another time."
    )
    assert shown.labels() == ["Find another session", "My bookings", "Menu"]
    async with services.db.transaction() as session:
        statuses = dict(
            (
                await session.execute(
                    select(Booking.person_id, Booking.status)
                    .where(Booking.session_id == session_id)
                    .order_by(Booking.id)
                )
            ).all()
        )
    assert list(statuses.values()) == ["cancelled", "booked", "booked", "waiting"]
    assert await reminders(services, 430, "pending") == []  # Ann's hour-before is dropped

    assert (await dispatcher.sweep()).sent == 1
    assert cat.last.text.startswith("Good news, Cat! A place has come up and it's yours")
    # Cat's day-before time has passed; her hour-before reminder is made.
    assert [at for at, *_ in await reminders(services, 432, "pending")] == [
        datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    ]
    [mine] = await dan.send("/mybookings")
    assert "You are number 1 on the waiting list." in mine.text

    # The same button again, or on someone else's booking: kindly refused, nothing changes.
    before = await snapshot(services.db)
    replies = await ann.press("I can't make it")
    assert replies[0].text.startswith(NO_SUCH_BOOKING)
    async with services.db.transaction() as session:
        bobs_booking = await session.scalar(
            select(Booking.id)
            .where(Booking.session_id == session_id, Booking.status == "booked")
            .order_by(Booking.id)
            .limit(1)
        )
    bobs = [data for _, data in bob.last.all_buttons()]
    assert bobs == [actions.still_coming(bobs_booking), actions.cannot_come(bobs_booking)]
    replies = await dan.press_data(bobs[1])  # Bob's "I can't make it", forged by Dan
    assert replies[0].text.startswith(NO_SUCH_BOOKING)
    replies = await dan.press_data(bobs[0])  # and Bob's "Yes"
    assert replies[0].text.startswith(NO_SUCH_BOOKING)
    assert await snapshot(services.db) == before


@pytest.mark.parametrize(
    "data", ["rc:", "rx:", "rx:abc", "rx:-1", "rx:١٢", "rx:1234567890", "rc:9"]
)
async def test_made_up_still_coming_data_is_refused(world, people, services, data):
    margaret = await resident(people, 440, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    before = await snapshot(services.db)
    replies = await margaret.press_data(data)
    assert replies[0].text.startswith(NO_SUCH_BOOKING)
    assert await snapshot(services.db) == before


async def test_cannot_come_after_the_start_changes_nothing(
    world, people, services, clock, dispatcher
):
    margaret = await resident(people, 441, "Margaret")
    shown = await book(margaret, world.sessions["dereham_cuppa"])
    assert shown.text.startswith("You're booked in.")
    clock.advance(HOUR)
    await dispatcher.sweep()
    clock.advance(25 * HOUR)  # the session has started
    before = await snapshot(services.db)
    [shown] = await margaret.press("I can't make it")
    assert shown.text.startswith("That session has already started")
    assert await snapshot(services.db) == before


# ---------------------------------------------------------------------------------------------
# The choice in settings, and cancelling
# ---------------------------------------------------------------------------------------------


async def test_changing_the_choice_redoes_pending_reminders(world, people, services, clock):
    margaret = await resident(people, 450, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    await book(margaret, world.sessions["online_cuppa"])
    settings = await open_settings(margaret)
    assert "Reminders: the day before and 1 hour before" in settings.text
    assert "News from the library: off" in settings.text
    assert settings.labels() == [
        "Change my library",
        "Change in person / online",
        "Reminders",
        "What I follow",
        "News: turn on",
        "Menu",
    ]
    [shown] = await margaret.press("Reminders")
    assert shown.text.startswith(
        "At the moment I remind you the day before and 1 hour before each session"
    )
    assert shown.labels() == [
        "The usual (a day and an hour before)",
        "Only the day before",
        "Only an hour before",
        "No reminders",
        "Back",
        "Menu",
    ]
    [shown] = await margaret.press("Only an hour before")
    assert shown.text.startswith("Done: I'll remind you 1 hour before each session")
    pending = await reminders(services, 450, "pending")
    assert [at for at, *_ in pending] == [
        datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    ]
    assert len(await reminders(services, 450, "cancelled")) == 4

    [shown] = await margaret.press("Back")
    assert "Reminders: 1 hour before" in shown.text
    await margaret.press("Reminders")
    [shown] = await margaret.press("No reminders")
    assert shown.text.startswith("Done: no more reminders.")
    assert await reminders(services, 450, "pending") == []
    [shown] = await margaret.press("Back")
    assert "Reminders: off" in shown.text

    # A new booking now comes without reminders, until she asks for them again.
    await book(margaret, world.sessions["mile_cross_knit"])
    assert await reminders(services, 450, "pending") == []
    await open_settings(margaret)
    await margaret.press("Reminders")
    [shown] = await margaret.press("The usual (a day and an hour before)")
    assert shown.text.startswith("Done: I'll remind you the day before and 1 hour before")
    assert len(await reminders(services, 450, "pending")) == 6


async def test_the_day_before_only(world, people, services):
    margaret = await resident(people, 451, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    await open_settings(margaret)
    await margaret.press("Reminders")
    await margaret.press("Only the day before")
    assert [at for at, *_ in await reminders(services, 451, "pending")] == [
        datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    ]


async def test_reminder_settings_need_consent_and_a_real_choice(world, people, services):
    stranger = people(452, "Sam")
    before = await snapshot(services.db)
    for data in ("rm", "rm:1", "rm:0"):
        [shown] = await stranger.press_data(data)
        assert "Is that OK?" in shown.text
    assert await snapshot(services.db) == before
    margaret = await resident(people, 453, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    before = await snapshot(services.db)
    for data in ("rm:", "rm:x", "rm:00", "rm:1:", "rm:d:1"):
        [shown] = await margaret.press_data(data)
        assert shown.text.startswith("Sorry, that button no longer works.")
    assert await snapshot(services.db) == before


async def test_cancelling_a_booking_drops_its_reminders(world, people, services):
    margaret = await resident(people, 460, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    await book(margaret, world.sessions["online_cuppa"])
    assert len(await reminders(services, 460, "pending")) == 4
    await margaret.send("/mybookings")
    await margaret.press("Cancel 1")  # the Dereham one, soonest
    await margaret.press("Yes, cancel it")
    pending = await reminders(services, 460, "pending")
    assert [at for at, *_ in pending] == [
        datetime(2026, 11, 24, 11, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    ]
    assert len(await reminders(services, 460, "cancelled")) == 2


# ---------------------------------------------------------------------------------------------
# Clock changes: the day-before reminder at the same local time of day
# ---------------------------------------------------------------------------------------------


async def session_on(services, world, day: date, start: time = time(10, 30)) -> int:
    plan = SessionPlan(
        activity_id=world.activities["Just a Cuppa"],
        library_id=world.libraries["Dereham"],
        day=day,
        start=start,
    )
    return (await services.admin.create(STAFF_ID, plan)).id


@pytest.mark.parametrize(
    ("now", "day", "day_before", "hour_before"),
    [
        # Mon 30 Mar 2026, 10:30am BST (09:30 UTC): the clocks went forward early on Sun 29th,
        # so Sunday 10:30am is BST too: 09:30 UTC.
        (
            datetime(2026, 3, 20, 9, 0, tzinfo=UTC),
            date(2026, 3, 30),
            (3, 29, 9, 30),
            (3, 30, 8, 30),
        ),
        # Mon 26 Oct 2026, 10:30am GMT (10:30 UTC): the clocks went back early on Sun 25th,
        # so Sunday 10:30am is GMT too: 10:30 UTC.
        (
            datetime(2026, 10, 20, 9, 0, tzinfo=UTC),
            date(2026, 10, 26),
            (10, 25, 10, 30),
            (10, 26, 9, 30),
        ),
        # Sun 29 Mar, 10:30am BST: the day before is Saturday, still GMT, so 10:30 UTC
        # (24 hours before would be 9:30am on Saturday).
        (
            datetime(2026, 3, 20, 9, 0, tzinfo=UTC),
            date(2026, 3, 29),
            (3, 28, 10, 30),
            (3, 29, 8, 30),
        ),
        # Sun 25 Oct, 10:30am GMT: the day before is Saturday, still BST, so 09:30 UTC
        # (24 hours before would be 11:30am on Saturday).
        (
            datetime(2026, 10, 20, 9, 0, tzinfo=UTC),
            date(2026, 10, 25),
            (10, 24, 9, 30),
            (10, 25, 9, 30),
        ),
    ],
)
async def test_day_before_at_the_same_local_time_across_a_clock_change(
    world, people, services, clock, dispatcher, now, day, day_before, hour_before
):
    clock.now = now
    session_id = await session_on(services, world, day)
    margaret = await resident(people, 470, "Margaret")
    await book(margaret, session_id)
    expected = [datetime(2026, *day_before, tzinfo=UTC), datetime(2026, *hour_before, tzinfo=UTC)]
    assert [at for at, *_ in await reminders(services, 470, "pending")] == expected
    assert expected[0].astimezone(LONDON).strftime("%a %H:%M") in ("Sun 10:30", "Sat 10:30")

    advance_to(clock, expected[0] - timedelta(seconds=1))
    assert (await dispatcher.sweep()).sent == 0
    clock.advance(1)
    assert (await dispatcher.sweep()).sent == 1
    assert margaret.last.text.startswith("A reminder: Just a Cuppa is tomorrow at 10:30am.")
    advance_to(clock, expected[1])
    assert (await dispatcher.sweep()).sent == 1
    assert margaret.last.text.startswith("A reminder: Just a Cuppa starts at 10:30am today.")


# ---------------------------------------------------------------------------------------------
# reminder_time and describe_offsets on their own
# ---------------------------------------------------------------------------------------------


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("starts", "offset", "expected"),
    [
        # An ordinary winter day: 24 hours and 1 hour before.
        (local(2026, 11, 25, 10, 0), 1440, datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
        (local(2026, 11, 25, 10, 0), 60, datetime(2026, 11, 25, 9, 0, tzinfo=UTC)),
        # The brief's two Mondays: their Sundays are already on the new time.
        (local(2026, 3, 30, 10, 30), 1440, datetime(2026, 3, 29, 9, 30, tzinfo=UTC)),
        (local(2026, 10, 26, 10, 30), 1440, datetime(2026, 10, 25, 10, 30, tzinfo=UTC)),
        # Sundays of the change: the day before is on the old time (23 or 25 hours before).
        (local(2026, 3, 29, 10, 30), 1440, datetime(2026, 3, 28, 10, 30, tzinfo=UTC)),
        (local(2026, 10, 25, 10, 30), 1440, datetime(2026, 10, 24, 9, 30, tzinfo=UTC)),
        # Two days before, across the change: same wall-clock time.
        (local(2026, 3, 30, 10, 30), 2880, datetime(2026, 3, 28, 10, 30, tzinfo=UTC)),
        # Minutes are real elapsed time, even across the jump at 1am.
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), 60, datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), 90, datetime(2026, 10, 25, 0, 0, tzinfo=UTC)),
        # A session in the repeated hour as the clocks go back (01:30 GMT, after 01:30 BST):
        # an hour before is 00:30 UTC, not an hour earlier.
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), 60, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        # A day and an hour: the day in local days, then the hour.
        (local(2026, 3, 29, 10, 30), 1500, datetime(2026, 3, 28, 9, 30, tzinfo=UTC)),
    ],
)
def test_reminder_time(starts: datetime, offset: int, expected: datetime) -> None:
    at = reminder_time(starts, offset, LONDON)
    assert at == expected
    assert at.tzinfo is not None and at.utcoffset() == timedelta(0)


def test_reminder_time_keeps_the_local_time_of_day_all_year() -> None:
    day = date(2026, 1, 1)
    while day.year == 2026:
        starts = datetime.combine(day, time(10, 30), tzinfo=LONDON)
        at = reminder_time(starts.astimezone(UTC), 1440, LONDON).astimezone(LONDON)
        assert (at.date(), at.time()) == (day - timedelta(days=1), time(10, 30)), day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("offsets", "words"),
    [
        ((1440, 60), "the day before and 1 hour before"),
        ((60, 1440), "the day before and 1 hour before"),
        ((1440,), "the day before"),
        ((60,), "1 hour before"),
        ((120,), "2 hours before"),
        ((2880,), "2 days before"),
        ((90,), "90 minutes before"),
        ((), "no reminders"),
    ],
)
def test_describe_offsets(offsets: tuple[int, ...], words: str) -> None:
    assert describe_offsets(offsets) == words
