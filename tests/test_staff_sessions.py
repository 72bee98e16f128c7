"""Staff and sessions, as conversations: Sam (staff) makes sessions one question at a time,
moves, changes and cancels them, stops a weekly one and takes attendance; every resident
booked or waiting hears about each change once, and their reminders follow. Residents who try
the staff buttons are refused and nothing changes; bad answers in the forms get a kind reply.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot import actions
from bot import staff_actions as sa
from bot.db.models import Booking, LibrarySession, OutboxMessage, SessionSeries
from bot.services.staff_sessions import SessionPlan
from bot.telegram.local_api import Shown
from tests.conftest import STAFF_ID
from tests.world import build_world, count, resident, rows, snapshot

REFUSAL = "Sorry, that's only for library staff."
EXPIRED = "Sorry, that button no longer works."
STAFF_MENU = [
    "New session",
    "Upcoming sessions",
    "Broadcast",
    "Register a Reading Friends reader",
    "Readers without Telegram",
    "Reports",
    "Recent staff actions",
    "Menu",
]
LONDON = "Europe/London"


async def book(person, session_id: int) -> Shown:  # type: ignore[no-untyped-def]
    [shown] = await person.press_data(actions.book(session_id))
    return shown


def staff_member(people):  # type: ignore[no-untyped-def]
    return people(STAFF_ID, "Sam")


async def open_session(staff, session_id: int) -> Shown:  # type: ignore[no-untyped-def]
    """The admin view of a session, as its button in the staff list opens it."""
    await staff.send("/staff")
    [shown] = await staff.press_data(sa.session(session_id))
    return shown


async def pending_reminders(db, booking_id: int) -> list[datetime]:  # type: ignore[no-untyped-def]
    found = await rows(db, OutboxMessage, booking_id=booking_id, kind="reminder", status="pending")
    return sorted(message.not_before for message in found)


async def deliver(dispatcher, clock):  # type: ignore[no-untyped-def]
    """Send what is due (after a pause, as Telegram allows one message a second per chat)."""
    clock.advance(2)
    return await dispatcher.sweep()


def messages_to(api, chat_id: int, start: str) -> list[Shown]:  # type: ignore[no-untyped-def]
    """Every message this chat was sent that begins so (edits not counted twice)."""
    return [shown for shown in api.chat(chat_id) if shown.text.startswith(start)]


async def resident_list(person, kind: str, *place: str) -> str:  # type: ignore[no-untyped-def]
    """What a resident sees finding sessions of a kind in a place, on any day (all pages)."""
    await person.send("/sessions")
    await person.press(kind)
    for label in place:
        await person.press(label)
    [shown] = await person.press("Any day")
    texts = [shown.text]
    while "Later ▶" in shown.labels():
        [shown] = await person.press("Later ▶")
        texts.append(shown.text)
    return "\n".join(texts)


# ---------------------------------------------------------------------------------------------
# The staff menu and making sessions
# ---------------------------------------------------------------------------------------------


async def test_staff_menu(world, people):
    sam = staff_member(people)
    [shown] = await sam.send("/staff")
    assert shown.text == "Staff menu. What would you like to do?"
    assert shown.labels() == STAFF_MENU
    assert dict(shown.all_buttons())["Broadcast"] == "bc"
    [menu] = await sam.press("Menu")
    assert "Staff menu" in menu.labels()
    [shown] = await sam.press("Staff menu")
    assert shown.labels() == STAFF_MENU


async def test_making_a_one_off_session_in_person(world, people, services):
    sam = staff_member(people)
    await sam.send("/staff")
    [shown] = await sam.press("New session")
    assert shown.text == "New session. What kind of session is it?"
    assert shown.labels() == ["Just a Cuppa", "Knit and Natter", "Colour Me Calm", "Back", "Menu"]
    [shown] = await sam.press("Knit and Natter")
    assert shown.text.startswith("Where will it be?")
    assert shown.labels() == ["Breckland", "Norwich", "Online", "Back", "Menu"]
    [shown] = await sam.press("Breckland")
    assert shown.labels() == ["Dereham Library", "Back", "Menu"]
    [shown] = await sam.press("Dereham Library")
    assert shown.text == "Which day? Tap a day, or type a date like 03/12/2026."
    days = shown.labels()[:-2]
    assert days[0] == "Tue 24 Nov" and days[-1] == "Mon 7 Dec" and len(days) == 14
    [shown] = await sam.press("Tue 1 Dec")
    assert shown.text.startswith("What time does it start on Tue 1 Dec?")
    assert shown.labels()[:6] == ["10am", "10:30am", "11am", "2pm", "2:30pm", "6pm"]
    [shown] = await sam.press("2:30pm")
    assert shown.labels() == ["1 hour", "1½ hours", "2 hours", "Back", "Menu"]
    [shown] = await sam.press("1½ hours")
    assert shown.labels()[:6] == ["8", "10", "12", "15", "20", "30"]
    [shown] = await sam.press("15")
    assert shown.text == "Is it a one-off, or every week (on Tuesdays at 2:30pm)?"
    [shown] = await sam.press("One-off")
    assert shown.text.startswith("Any notes for people coming")
    [preview] = await sam.send("Bring your own wool")
    assert preview.text.splitlines() == [
        "Please check the new session:",
        "",
        "Knit and Natter",
        "Where: Dereham Library",
        "When: Tue 1 Dec, 2:30pm (1½ hours)",
        "Places: 15",
        "Notes: Bring your own wool",
    ]
    assert preview.labels() == ["Create it", "Start again", "Cancel", "Back", "Menu"]
    [done] = await sam.press("Create it")
    assert done.text.startswith("Done: the session is made and people can book it now.")
    assert "When: Tue 1 Dec, 2:30pm (1h 30min)" in done.text
    assert await services.dialogs.get(STAFF_ID) is None

    [made] = await rows(services.db, LibrarySession, notes="Bring your own wool")
    assert made.starts_at == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    assert (made.capacity, made.duration_minutes, made.online) == (15, 90, False)
    assert made.library_id == world.libraries["Dereham"] and made.series_id is None

    margaret = await resident(people, 401, "Margaret")
    listed = await resident_list(margaret, "Knit and Natter", "Anywhere in Norfolk")
    assert "Knit and Natter\nWhere: Dereham Library" in listed
    assert "When: Tue 1 Dec, 2:30pm (1h 30min)" in listed

    [shown] = await sam.send("/staff")
    [shown] = await sam.press("Recent staff actions")
    assert shown.text.startswith("Recent staff actions, newest first:")
    assert f"Tue 24 Nov, 9am, you: create session: session {made.id} from Tue 1 Dec" in shown.text
    assert shown.labels() == ["Back", "Menu"]


async def test_a_weekly_online_session_keeps_its_local_time_across_the_clock_change(
    people, services, clock
):
    clock.now = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)  # Tue 20 Oct; the clocks go back 25th
    await build_world(services.db, clock())
    sam = staff_member(people)
    await sam.send("/staff")
    await sam.press("New session")
    await sam.press("Just a Cuppa")
    [shown] = await sam.press("Online")
    assert shown.text.startswith("Please type or paste the join link")
    [shown] = await sam.send("https://meet.example.org/thursday-cuppa")
    assert shown.text.startswith("Which day?")
    await sam.press("Thu 22 Oct")
    await sam.press("10:30am")
    await sam.press("1 hour")
    [shown] = await sam.send("40")
    assert shown.text == "Is it a one-off, or every week (on Thursdays at 10:30am)?"
    await sam.press("Every week")
    [preview] = await sam.press("No notes")
    assert "Where: Online (join link: https://meet.example.org/thursday-cuppa)" in preview.text
    assert "When: Every Thursday at 10:30am, starting Thu 22 Oct (1 hour)" in preview.text
    [done] = await sam.press("Create it")
    assert done.text.startswith("Done: the weekly session is made.")
    assert "Just a Cuppa, every week\nWhere: Online\nWhen: Thu 22 Oct, 10:30am" in done.text

    sittings = await rows(services.db, LibrarySession, series_id=1)
    starts = sorted(s.starts_at for s in sittings)
    assert starts == [
        datetime(2026, 10, 22, 9, 30, tzinfo=UTC),  # BST
        datetime(2026, 10, 29, 10, 30, tzinfo=UTC),  # GMT from here on
        datetime(2026, 11, 5, 10, 30, tzinfo=UTC),
        datetime(2026, 11, 12, 10, 30, tzinfo=UTC),
    ]
    tz = services.config.tz
    assert {s.astimezone(tz).time() for s in starts} == {time(10, 30)}
    assert all(s.online and s.join_link.endswith("thursday-cuppa") for s in sittings)

    margaret = await resident(people, 402, "Margaret")
    listed = await resident_list(margaret, "Just a Cuppa", "Online")
    assert "When: Thu 22 Oct, 10:30am (1 hour)" in listed
    assert "When: Thu 29 Oct, 10:30am (1 hour)" in listed
    assert "When: Thu 12 Nov, 10:30am (1 hour)" in listed

    # A week on, the scheduled job opens one more week, and running it again adds nothing.
    clock.advance(7 * 24 * 3600)
    assert await services.admin.extend_series() == 1
    assert await services.admin.extend_series() == 0
    sittings = await rows(services.db, LibrarySession, series_id=1)
    assert len(sittings) == 5
    assert len({s.series_day for s in sittings}) == 5
    newest = max(s.starts_at for s in sittings)
    assert newest == datetime(2026, 11, 19, 10, 30, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Changing sessions: everyone booked or waiting hears once, reminders follow
# ---------------------------------------------------------------------------------------------


async def test_moving_a_session_tells_everyone_once_and_moves_their_reminders(
    world, people, services, dispatcher, api, clock
):
    session_id = world.sessions["norwich_cuppa"]  # Thu 26 Nov, 10am; two places
    ann, bob, cat = [await resident(people, 410 + n, name) for n, name in enumerate("ABC")]
    ann_booking = await book(ann, session_id)
    await book(bob, session_id)
    await book(cat, session_id)
    [ann_id, bob_id, cat_id] = [b.id for b in await rows(services.db, Booking)]
    assert await pending_reminders(services.db, ann_id) == [
        datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
    ]
    assert "You have a place." in ann_booking.text

    sam = staff_member(people)
    await sam.send("/staff")
    await sam.press("Upcoming sessions")
    await sam.press("Norwich")
    [listed] = await sam.press("Norwich Millennium Library")
    assert listed.text.startswith("Sessions at Norwich Millennium Library (page 1 of 1):")
    assert "1. Thu 26 Nov, 10am · Just a Cuppa: 2 booked, 1 waiting, 2 places" in listed.text
    [view] = await sam.press("1. Thu 26 Nov, 10am · Just a Cuppa")
    assert "2 booked, 1 waiting" in view.text
    assert view.labels() == [
        "People and attendance",
        "Change day or time",
        "Change place",
        "Change places",
        "Change notes",
        "Cancel this session",
        "Back",
        "Menu",
    ]
    [shown] = await sam.press("Change day or time")
    assert shown.labels()[0] == "Same day (Thu 26 Nov)"
    [shown] = await sam.press("Same day (Thu 26 Nov)")
    assert shown.labels()[0] == "Same time (10am)"
    [shown] = await sam.press("2:30pm")
    assert shown.text == (
        "Move Just a Cuppa from Thu 26 Nov, 10am to Thu 26 Nov, 2:30pm?\n\n"
        "This will tell 3 people. Go ahead?"
    )
    assert await count(services.db, OutboxMessage, kind="session_changed") == 0
    [done] = await sam.press("Yes, go ahead")
    assert done.text.startswith("Done. I've told 3 people.")
    assert "When: Thu 26 Nov, 2:30pm (1 hour)" in done.text

    report = await deliver(dispatcher, clock)
    assert report.sent == 3
    for person in (ann, bob, cat):
        [notice] = messages_to(api, person.user_id, "A change to Just a Cuppa")
        assert "When: now Thu 26 Nov, 2:30pm (was Thu 26 Nov, 10am)" in notice.text
        assert notice.labels() == ["My bookings", "I can't make it now"]
    assert "Your place is still booked." in ann.last.text
    assert "You're still number 1 on the waiting list." in cat.last.text

    for booking_id in (ann_id, bob_id):
        assert await pending_reminders(services.db, booking_id) == [
            datetime(2026, 11, 25, 14, 30, tzinfo=UTC),
            datetime(2026, 11, 26, 13, 30, tzinfo=UTC),
        ]
    assert await pending_reminders(services.db, cat_id) == []
    # Pressing "Yes" again does nothing more.
    await sam.press_data(sa.go_ahead(session_id))
    assert await count(services.db, OutboxMessage, kind="session_changed") == 3


async def test_moving_online_and_back(world, people, services, dispatcher, api, clock):
    session_id = world.sessions["dereham_cuppa"]  # Wed 25 Nov, 10am at Dereham
    ann = await resident(people, 420, "Ann")
    await book(ann, session_id)
    [booking] = await rows(services.db, Booking)
    sam = staff_member(people)
    await open_session(sam, session_id)
    [shown] = await sam.press("Change place")
    assert shown.text.startswith("It's at Dereham Library now. Where should it be?")
    [shown] = await sam.press("Online")
    [shown] = await sam.send("https://meet.example.org/moved-room")
    assert shown.text.startswith(
        "Move Just a Cuppa on Wed 25 Nov, 10am online, with this join link?\n"
        "https://meet.example.org/moved-room"
    )
    assert "This will tell 1 person. Go ahead?" in shown.text
    [done] = await sam.press("Yes, go ahead")
    assert done.text.startswith("Done. I've told 1 person.")
    assert "Where: Online" in done.text
    await deliver(dispatcher, clock)
    assert "Where: now Online (was Dereham Library, 59 High Street" in ann.last.text
    assert "Join online: https://meet.example.org/moved-room" in ann.last.text
    reminders = await rows(
        services.db, OutboxMessage, booking_id=booking.id, kind="reminder", status="pending"
    )
    assert len(reminders) == 2
    assert all("https://meet.example.org/moved-room" in r.text for r in reminders)

    await sam.press("Change place")
    await sam.press("Norwich")
    [shown] = await sam.press("Mile Cross Library")
    assert shown.text.startswith("Move Just a Cuppa on Wed 25 Nov, 10am to Mile Cross Library?")
    [done] = await sam.press("Yes, go ahead")
    assert done.text.startswith("Done. I've told 1 person.")
    [row] = await rows(services.db, LibrarySession, id=session_id)
    assert (row.online, row.library_id, row.join_link) == (False, world.libraries["Mile"], "")
    await deliver(dispatcher, clock)
    assert "Where: now Mile Cross Library, Aylsham Road, Norwich NR3 2RJ (was Online)" in (
        ann.last.text
    )
    assert "meet.example.org" not in ann.last.text
    reminders = await rows(
        services.db, OutboxMessage, booking_id=booking.id, kind="reminder", status="pending"
    )
    assert all("Where: Mile Cross Library" in r.text for r in reminders)
    assert len(messages_to(api, ann.user_id, "A change to")) == 2


async def test_more_places_go_to_the_waiting_list_and_notes_change(
    world, people, services, dispatcher, api, clock
):
    session_id = world.sessions["norwich_cuppa"]  # two places
    ann, bob, cat, dan = [await resident(people, 430 + n, name) for n, name in enumerate("ABCD")]
    for person in (ann, bob, cat, dan):
        await book(person, session_id)
    sam = staff_member(people)
    await open_session(sam, session_id)
    [shown] = await sam.press("Change places")
    assert shown.text.startswith("How many places should it have? It has 2 now, with 2 booked")
    [shown] = await sam.send("3")
    assert shown.text.startswith(
        "Change the places for Just a Cuppa from 2 to 3? "
        "The first person on the waiting list will get a place."
    )
    assert "This will tell 4 people. Go ahead?" in shown.text
    [done] = await sam.press("Yes, go ahead")
    assert done.text.startswith("Done. I've told 4 people.")
    assert "3 booked, 1 waiting" in done.text
    cat_booking = (await rows(services.db, Booking))[2]
    assert cat_booking.status == "booked"
    assert len(await pending_reminders(services.db, cat_booking.id)) == 2

    await deliver(dispatcher, clock)
    [good_news] = messages_to(api, cat.user_id, "Good news, C! A place has come up")
    assert "You have a place." in good_news.text
    assert messages_to(api, cat.user_id, "A change to") == []
    [notice] = messages_to(api, dan.user_id, "A change to")
    assert "Places: now 3 (was 2)" in notice.text
    assert "You're still number 1 on the waiting list." in notice.text
    assert "Your place is still booked." in messages_to(api, ann.user_id, "A change to")[0].text

    [shown] = await sam.press("Change notes")
    assert "The notes now: Biscuits provided" in shown.text
    [shown] = await sam.send("Tea, coffee and cake")
    assert shown.text.startswith("Change the notes to:\nTea, coffee and cake")
    await sam.press("Yes, go ahead")
    await deliver(dispatcher, clock)
    assert "Notes: Tea, coffee and cake" in dan.last.text
    [shown] = await sam.press("Change notes")
    [shown] = await sam.press("No notes")
    assert shown.text.startswith("Remove the notes?")
    [done] = await sam.press("Yes, go ahead")
    assert "Notes: none" in done.text
    await deliver(dispatcher, clock)
    assert "Notes: none" in ann.last.text
    assert len(messages_to(api, ann.user_id, "A change to")) == 3


async def test_cancelling_a_session(world, people, services, dispatcher, api, clock):
    session_id = world.sessions["norwich_cuppa"]
    ann, bob, cat = [await resident(people, 440 + n, name) for n, name in enumerate("ABC")]
    for person in (ann, bob, cat):
        await book(person, session_id)
    bookings = await rows(services.db, Booking)
    sam = staff_member(people)
    await open_session(sam, session_id)
    [shown] = await sam.press("Cancel this session")
    assert shown.text == (
        "Cancel Just a Cuppa on Thu 26 Nov, 10am?\n\nThis will tell 3 people. Go ahead?"
    )
    assert shown.labels() == ["Yes, cancel it", "No, keep it", "Menu"]
    [shown] = await sam.press("No, keep it")
    assert "This session has been cancelled." not in shown.text
    await sam.press("Cancel this session")
    [done] = await sam.press("Yes, cancel it")
    assert done.text.startswith("Done: it's cancelled. I've told 3 people.")
    assert "This session has been cancelled." in done.text
    assert done.labels() == ["Back", "Menu"]
    for booking in bookings:
        assert await pending_reminders(services.db, booking.id) == []
    await deliver(dispatcher, clock)
    for person in (ann, bob, cat):
        [notice] = messages_to(api, person.user_id, "Sorry: Just a Cuppa")
        assert "on Thu 26 Nov, 10am has been cancelled." in notice.text
    [mine] = await ann.send("/mybookings")
    assert mine.text == "You have no upcoming bookings."
    listed = await resident_list(ann, "Just a Cuppa", "Anywhere in Norfolk")
    assert "Norwich Millennium Library" not in listed
    [listed] = await sam.press("Back")
    assert "There are no sessions coming up at Norwich Millennium Library." in listed.text


async def test_stopping_a_weekly_session(world, people, services, clock):
    plan = SessionPlan(
        activity_id=world.activities["Colour Me Calm"],
        library_id=world.libraries["Dereham"],
        day=date(2026, 11, 26),
        start=time(10, 30),
        weekly=True,
    )
    first = await services.admin.create(STAFF_ID, plan)
    sittings = await rows(services.db, LibrarySession, series_id=1)
    assert len(sittings) == 4  # 26 Nov to 17 Dec: the 28 days ahead
    ann = await resident(people, 450, "Ann")
    await book(ann, sittings[1].id)
    sam = staff_member(people)

    # Stopping from the second week leaves the first.
    view = await open_session(sam, sittings[1].id)
    assert view.text.startswith("Colour Me Calm, every week\n")
    [shown] = await sam.press("Stop the weekly session")
    assert shown.text == (
        "Stop the weekly Colour Me Calm? This one (Thu 3 Dec, 10:30am) and every week after "
        "it will be cancelled: 3 weeks open for booking now.\n\n"
        "This will tell 1 person. Go ahead?"
    )
    [done] = await sam.press("Yes, stop it")
    assert done.text.startswith(
        "Done: I've stopped the weekly session and cancelled 3 weeks. I've told 1 person."
    )
    statuses = [s.status for s in await rows(services.db, LibrarySession, series_id=1)]
    assert statuses == ["scheduled", "cancelled", "cancelled", "cancelled"]
    [series] = await rows(services.db, SessionSeries)
    assert series.active is False
    assert first.id == sittings[0].id

    one_off = await open_session(sam, world.sessions["dereham_cuppa"])
    assert "Stop the weekly session" not in one_off.labels()
    [shown] = await sam.press_data(sa.stop_series(world.sessions["online_colour"]))
    assert shown.text.startswith("That isn't a weekly session.")
    clock.advance(14 * 24 * 3600)
    assert await services.admin.extend_series() == 0
    assert await count(services.db, LibrarySession, series_id=1) == 4


async def test_attendance_only_once_the_session_has_started(world, people, services, clock):
    session_id = world.sessions["dereham_knit"]  # today, 3pm
    ann, bob = [await resident(people, 460 + n, name) for n, name in enumerate(["Ann", "Bob"])]
    await book(ann, session_id)
    await book(bob, session_id)
    ann_id, bob_id = [b.id for b in await rows(services.db, Booking)]
    sam = staff_member(people)
    await open_session(sam, session_id)
    [shown] = await sam.press("People and attendance")
    assert shown.text.splitlines() == [
        "Knit and Natter, Tue 24 Nov, 3pm",
        "2 booked, 0 waiting",
        "",
        "1. Ann",
        "2. Bob",
        "You can mark who came once the session has started.",
    ]
    assert shown.labels() == ["Back", "Menu"]
    before = await snapshot(services.db)
    [shown] = await sam.press_data(sa.mark(session_id, ann_id, True))
    assert shown.text.startswith("You can mark who came once the session has started.")
    assert await snapshot(services.db) == before

    clock.advance(6 * 3600 + 300)
    await sam.send("/staff")
    await sam.press("Upcoming sessions")
    await sam.press("Breckland")
    [listed] = await sam.press("Dereham Library")
    assert "1. Tue 24 Nov, 3pm · Knit and Natter: 2 booked, 0 waiting, 8 places (started)" in (
        listed.text
    )
    [view] = await sam.press("1. Tue 24 Nov, 3pm · Knit and Natter")
    assert "This session has started." in view.text
    assert view.labels() == ["People and attendance", "Back", "Menu"]
    [shown] = await sam.press("People and attendance")
    assert shown.labels() == [
        "1. Ann came",
        "1. didn't come",
        "2. Bob came",
        "2. didn't come",
        "Back",
        "Menu",
    ]
    [shown] = await sam.press("1. Ann came")
    [shown] = await sam.press("2. didn't come")
    assert "1. Ann: came\n2. Bob: didn't come" in shown.text
    assert shown.labels()[:4] == [
        "✓ 1. Ann came",
        "1. didn't come",
        "2. Bob came",
        "✓ 2. didn't come",
    ]
    marks = {b.id: b.attendance for b in await rows(services.db, Booking)}
    assert marks == {ann_id: "attended", bob_id: "no_show"}
    # Changing a mark: Ann didn't come after all.
    [shown] = await sam.press("1. didn't come")
    assert "1. Ann: didn't come" in shown.text
    # A booking from another session can't be marked through this one.
    carol = await resident(people, 462, "Carol")
    await book(carol, world.sessions["dereham_cuppa"])
    carol_booking = (await rows(services.db, Booking))[-1]
    before = await snapshot(services.db)
    [shown] = await sam.press_data(sa.mark(session_id, carol_booking.id, True))
    assert shown.text.startswith(EXPIRED)
    assert await snapshot(services.db) == before


# ---------------------------------------------------------------------------------------------
# Residents can't use any of it
# ---------------------------------------------------------------------------------------------


async def test_residents_are_refused_and_nothing_changes(world, people, services):
    margaret = await resident(people, 470, "Margaret")
    session_id = world.sessions["dereham_cuppa"]
    await book(margaret, session_id)
    [booking] = await rows(services.db, Booking)
    stranger = people(471, "Stranger")  # has not even agreed to the notice
    before = await snapshot(services.db)
    forged = [
        "sf",
        "sf:r",
        "sf:m",
        "sn:n",
        sa.new_activity(1),
        sa.CREATE,
        sa.session(session_id),
        sa.WHERE,
        sa.change_when(session_id, date(2026, 11, 25), time(14)),
        sa.cancel_session(session_id),
        sa.go_ahead(session_id),
        sa.stop_series(session_id),
        sa.set_capacity(session_id, 1),
        sa.attendance(session_id),
        sa.mark(session_id, booking.id, False),
        "sx:garbage",
        "sa:",
    ]
    for person in (margaret, stranger):
        [shown] = await person.send("/staff")
        assert shown.text.startswith(REFUSAL)
        assert "Staff menu" not in shown.labels()
        for data in forged:
            [shown] = await person.press_data(data)
            assert shown.text.startswith(REFUSAL), data
    assert await snapshot(services.db) == before
    assert await services.dialogs.get(margaret.user_id) is None
    assert await count(services.db, OutboxMessage, kind="session_cancelled") == 0


# ---------------------------------------------------------------------------------------------
# Bad input in the forms
# ---------------------------------------------------------------------------------------------


async def test_bad_answers_in_the_new_session_form(world, people, services):
    sam = staff_member(people)
    await sam.send("/staff")
    await sam.press("New session")
    [shown] = await sam.send("tea")
    assert shown.text.startswith("Please tap one of the buttons below, or send /cancel to stop.")
    assert "New session. What kind of session is it?" in shown.text
    await sam.press("Just a Cuppa")
    [shown] = await sam.send("Dereham")
    assert shown.text == "Which library do you mean?"
    [shown] = await sam.send("Atlantis")
    assert shown.text.startswith("Sorry, I couldn't find a library by that name.")
    await sam.press("Online")
    [shown] = await sam.send("not a link")
    assert shown.text.startswith("That doesn't look like a join link.")
    [shown] = await sam.send("https://meet.example.org/" + "x" * 400)
    assert shown.text.startswith("That link is too long: it can be up to 300 characters.")
    await sam.send("https://meet.example.org/room")
    for typed in ("31/02/2026", "next tuesday", "1/12/26", "2026-13-01"):
        [shown] = await sam.send(typed)
        assert shown.text.startswith("Sorry, I couldn't read that date."), typed
    [shown] = await sam.send("2026-11-01")
    assert shown.text.startswith("That day has already passed.")
    [shown] = await sam.send("01/12/2026")
    assert shown.text.startswith("What time does it start on Tue 1 Dec?")
    [shown] = await sam.press("Back")
    assert shown.text.startswith("Which day?")
    [shown] = await sam.send("24/11/2026")
    for typed in ("25:00", "half ten", "10", "13pm"):
        [shown] = await sam.send(typed)
        assert shown.text.startswith("Sorry, I couldn't read that time."), typed
    [shown] = await sam.send("8:30")
    assert shown.text.startswith("That time has already passed.")
    [shown] = await sam.send("2.15pm")
    assert shown.text == "How long does it last?\n" or shown.text.startswith("How long")
    [shown] = await sam.send("90")
    assert shown.text.startswith("Please tap one of the buttons below")
    await sam.press("2 hours")
    for typed, answer in (
        ("0", "Please choose between 1 and 500 places."),
        ("501", "Please choose between 1 and 500 places."),
        ("lots", "Please tap a number, or type one like 12."),
        ("١٢", "Please tap a number, or type one like 12."),
        ("12345678901234", "Please tap a number, or type one like 12."),
    ):
        [shown] = await sam.send(typed)
        assert shown.text.startswith(answer), typed
    await sam.send("12")
    await sam.press("One-off")
    [shown] = await sam.send("x" * 5000)
    assert shown.text.startswith("That's a bit long: notes can be up to 500 characters.")
    assert len(shown.text) < 1000
    sessions_before = await count(services.db, LibrarySession)
    [stopped, _menu] = await sam.send("/cancel")
    assert stopped.text == "OK, I've stopped that."
    assert await services.dialogs.get(STAFF_ID) is None
    # A button from the closed form does nothing but say so.
    [shown] = await sam.press_data(sa.new_length(60))
    assert shown.text.startswith("Sorry, that form has closed.")
    await sam.press_data(sa.CREATE)  # the same answer again: the message stays as it is
    assert sam.last.text.startswith("Sorry, that form has closed.")
    assert await count(services.db, LibrarySession) == sessions_before
    # Garbled or forged data is refused by the parser.
    before = await snapshot(services.db)
    for data in (
        "sn:zz",
        "sn:a:x",
        "sx:view:1234567890",
        "sx:when:1:20261331:1030",
        "sa:m:1:2:x:0",
    ):
        [shown] = await sam.press_data(data)
        assert shown.text.startswith(EXPIRED), data
    assert await snapshot(services.db) == before


async def test_problems_the_service_finds_ask_the_question_again(world, people, services, clock):
    sam = staff_member(people)
    await sam.send("/staff")
    await sam.press("New session")
    await sam.press("Just a Cuppa")
    await sam.press("Breckland")
    await sam.press("Dereham Library")
    await sam.press("Tue 24 Nov")
    await sam.press("10am")
    await sam.press("1 hour")
    await sam.press("12")
    await sam.press("Every week")
    [shown] = await sam.press("No notes")
    assert shown.text.startswith("Please check the new session:")
    clock.advance(2 * 3600)  # it is 11am before Sam taps Create
    [shown] = await sam.press("Create it")
    assert shown.text.startswith(
        "That time has already passed. Please choose a time in the future.\n\n"
        "What time does it start on Tue 24 Nov?"
    )
    await sam.press("6pm")
    [done] = await sam.press("Create it")
    assert done.text.startswith("Done: the weekly session is made.")
    assert "When: Tue 24 Nov, 6pm (1 hour)" in done.text

    # A move confirmed too late is refused and its question asked again; nobody is told.
    session_id = world.sessions["dereham_cuppa"]  # Wed 25 Nov, 10am
    await open_session(sam, session_id)
    await sam.press("Change day or time")
    await sam.press("Tue 24 Nov")
    [shown] = await sam.press("2pm")
    assert shown.text.startswith("Move Just a Cuppa from Wed 25 Nov, 10am to Tue 24 Nov, 2pm?")
    clock.advance(4 * 3600)
    [shown] = await sam.press("Yes, go ahead")
    assert shown.text.startswith(
        "That time has already passed. Please choose a time in the future.\n\n"
        "Just a Cuppa is on Wed 25 Nov, 10am. Which day should it be?"
    )
    assert await count(services.db, OutboxMessage, kind="session_changed") == 0


async def test_a_stale_answer_and_the_menu_button_leave_the_form_cleanly(world, people, services):
    sam = staff_member(people)
    await sam.send("/staff")
    await sam.press("New session")
    await sam.press("Knit and Natter")
    # An answer to a question that isn't being asked just asks the current one again.
    [shown] = await sam.press_data(sa.new_places(10))
    assert shown.text.startswith("Let's carry on from here.\n\nWhere will it be?")
    state = await services.dialogs.get(STAFF_ID)
    assert state is not None and state.data == {"activity_id": world.activities["Knit and Natter"]}
    [shown] = await sam.press("Menu")
    assert shown.text.startswith("Hello")
    assert await services.dialogs.get(STAFF_ID) is None
    # Typing afterwards is taken as typing, not as an answer to the closed form.
    [shown] = await sam.send("Dereham")
    assert shown.text == "What kind of session are you looking for?"


async def test_bad_answers_when_changing_a_session(world, people, services, clock):
    session_id = world.sessions["dereham_knit"]  # today, 3pm
    sam = staff_member(people)
    await open_session(sam, session_id)
    before = await snapshot(services.db)
    await sam.press("Change places")
    for typed in ("abc", "0", "8"):
        [shown] = await sam.send(typed)
        assert shown.text.startswith(
            {
                "abc": "Please tap a number",
                "0": "Please choose between 1 and 500",
                "8": "It has 8 places already.",
            }[typed]
        )
    [shown] = await sam.press("Back")
    await sam.press("Change day or time")
    [shown] = await sam.send("yesterday")
    assert shown.text.startswith("Sorry, I couldn't read that date.")
    [shown] = await sam.send("23/11/2026")
    assert shown.text.startswith("That day has already passed.")
    [shown] = await sam.send("24/11/2026")
    assert shown.text.startswith("What time on Tue 24 Nov?")
    [shown] = await sam.send("8am")
    assert shown.text.startswith("That time has already passed.")
    [shown] = await sam.press("Same time (3pm)")
    assert shown.text.startswith("That's when it is already.")
    await sam.press("Back")
    await sam.press("Change notes")
    [shown] = await sam.send("y" * 600)
    assert shown.text.startswith("That's a bit long")
    await sam.press("Back")
    await sam.press("Change place")
    await sam.press("Online")
    [shown] = await sam.send("www.example.org")
    assert shown.text.startswith("That doesn't look like a join link.")
    [stopped, _menu] = await sam.send("/cancel")
    assert stopped.text == "OK, I've stopped that."
    assert await services.dialogs.get(STAFF_ID) is None
    [shown] = await sam.press_data(sa.go_ahead(session_id))
    assert shown.text.startswith("That change has already been made, or was stopped.")
    assert await snapshot(services.db) == before
    # Once it has started it can't be changed, whatever the buttons say.
    clock.advance(7 * 3600)
    for data in (sa.change_capacity(session_id), sa.cancel_session(session_id)):
        await sam.send("/staff")
        [shown] = await sam.press_data(data)
        assert shown.text.startswith("Sorry, this session has started or been cancelled")
    assert await snapshot(services.db) == before


# ---------------------------------------------------------------------------------------------
# The button vocabulary, on its own
# ---------------------------------------------------------------------------------------------

BIG = 999_999_999
EVERY_BUILDER = [
    sa.STAFF_MENU,
    sa.RECENT,
    sa.LEAVE,
    sa.NEW,
    sa.ONLINE,
    sa.NO_NOTES,
    sa.CREATE,
    sa.QUIT,
    sa.WHERE,
    sa.new_activity(BIG),
    sa.new_area(BIG),
    sa.new_library(BIG),
    sa.new_day(date(2026, 12, 31)),
    sa.new_time(time(23, 59)),
    sa.new_length(BIG),
    sa.new_places(BIG),
    sa.new_repeat(True),
    sa.new_repeat(False),
    *(sa.new_back(step) for step in sa.STEPS),
    sa.area(BIG),
    sa.session_list(sa.library_place(BIG), BIG),
    sa.session_list(sa.ONLINE_PLACE, 0),
    sa.session(BIG),
    sa.change_day(BIG),
    sa.change_time(BIG, date(2026, 12, 31)),
    sa.change_when(BIG, date(2026, 12, 31), time(23, 59)),
    sa.change_place(BIG),
    sa.change_area(BIG, BIG),
    sa.change_library(BIG, BIG),
    sa.change_online(BIG),
    sa.change_capacity(BIG),
    sa.set_capacity(BIG, BIG),
    sa.change_notes(BIG),
    sa.clear_notes(BIG),
    sa.cancel_session(BIG),
    sa.stop_series(BIG),
    sa.go_ahead(BIG),
    sa.attendance(BIG, BIG),
    sa.mark(BIG, BIG, True, BIG),
    sa.mark(BIG, BIG, False, BIG),
]


def test_every_staff_builder_fits_and_parses():
    for data in EVERY_BUILDER:
        assert len(data.encode()) <= sa.MAX_BYTES, data
        assert sa.parse(data) is not None, data


def test_staff_actions_round_trip():
    assert sa.parse(sa.change_when(7, date(2026, 12, 3), time(10, 30))) == sa.StaffAction(
        "sx:when", (7, date(2026, 12, 3), time(10, 30))
    )
    assert sa.parse(sa.session_list("l12", 3)) == sa.StaffAction("sx:list", ("l12", 3))
    assert sa.parse(sa.mark(1, 2, False, 0)) == sa.StaffAction("sa:m", (1, 2, "n", 0))
    assert sa.parse(sa.new_back("notes")) == sa.StaffAction("sn:b", ("notes",))
    assert sa.parse(sa.new_repeat(True)) == sa.StaffAction("sn:w", (True,))
    assert sa.parse(sa.new_repeat(False)) == sa.StaffAction("sn:w", (False,))
    assert sa.parse("sf") == sa.StaffAction("sf", ())
    assert sa.library_of("l12") == 12 and sa.library_of(sa.ONLINE_PLACE) is None


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "",
        "sf:",
        "sf:r:1",
        "sn",
        "sn:a",
        "sn:a:",
        "sn:a:1:2",
        "sn:a:-1",
        "sn:a:1234567890",
        "sn:a:١",
        "sn:a:²",
        "sn:a:1 ",
        "sn:a: 1",
        "sn:d:20261301",
        "sn:d:20260230",
        "sn:d:2026121",
        "sn:t:2400",
        "sn:t:1060",
        "sn:t:930",
        "sn:w:x",
        "sn:b:z",
        "sn:b:",
        "sx:list:x:0",
        "sx:list:l:0",
        "sx:list:l1234567890:0",
        "sx:list:o",
        "sx:view:1:2",
        "sx:when:1:20261203",
        "sx:when:1:20261203:1030:9",
        "sx:unknown:1",
        "sa:m:1:2:x:0",
        "sa:m:1:2:a",
        "sa:v:1",
        "SX:VIEW:1",
        "sx:view:" + "1" * 60,
        "sx:view:1\n",
        "bk:1",
    ],
)
def test_staff_parse_rejects_garbage(garbage):
    assert sa.parse(garbage) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-03", date(2026, 12, 3)),
        ("03/12/2026", date(2026, 12, 3)),
        ("3/12/2026", date(2026, 12, 3)),
        (" 2026-1-5 ", date(2026, 1, 5)),
        ("31/02/2026", None),
        ("12/31/2026", None),
        ("3/12/26", None),
        ("2026/12/03", None),
        ("tomorrow", None),
        ("", None),
        ("٠٣/١٢/٢٠٢٦", None),
    ],
)
def test_parse_typed_day(typed, expected):
    assert sa.parse_typed_day(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("10:30", time(10, 30)),
        ("14:00", time(14, 0)),
        ("9.15", time(9, 15)),
        ("2pm", time(14, 0)),
        ("2:30pm", time(14, 30)),
        ("10:30 AM", time(10, 30)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("0:00", time(0, 0)),
        ("24:00", None),
        ("13pm", None),
        ("0am", None),
        ("10", None),
        ("10:3", None),
        ("10:60", None),
        ("ten", None),
        ("", None),
    ],
)
def test_parse_typed_time(typed, expected):
    assert sa.parse_typed_time(typed) == expected
