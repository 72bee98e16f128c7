"""Booking, the waiting list and its promotions, cancelling, /mybookings and calendar files."""

from __future__ import annotations

import asyncio

from icalendar import Calendar

from bot import actions
from bot.db.models import Booking, OutboxMessage
from tests.world import count, open_session, resident


async def test_booking_a_place(world, people, services):
    margaret = await resident(people, 301, "Margaret")
    details = await open_session(margaret, world.sessions["dereham_cuppa"])
    assert "Places: 12 places left" in details.text
    [shown] = await margaret.press("Book a place")
    assert shown.text.startswith("You're booked in. See you there!")
    assert "Just a Cuppa: Wed 25 Nov, 10am" in shown.text
    assert "You have a place." in shown.text
    assert shown.labels() == ["Add to my calendar", "My bookings", "Menu"]
    details = await open_session(margaret, world.sessions["dereham_cuppa"])
    assert "Places: 11 places left" in details.text


async def test_booking_twice_keeps_one_place(world, people, services):
    margaret = await resident(people, 302, "Margaret")
    await open_session(margaret, world.sessions["dereham_cuppa"])
    await margaret.press("Book a place")
    [shown] = await margaret.press_data(actions.book(world.sessions["dereham_cuppa"]))
    assert shown.text.startswith("You've already got this one.")
    assert await count(services.db, Booking, status="booked") == 1


async def test_booking_before_consent_asks_first_then_books(world, people, services):
    stranger = people(303, "Sam")
    await open_session(stranger, world.sessions["dereham_cuppa"])
    [shown] = await stranger.press("Book a place")
    assert shown.text.startswith("I'd be glad to book that for you.")
    assert await count(services.db, Booking) == 0
    [shown] = await stranger.press("Yes, that's fine")
    assert shown.text.startswith("You're booked in.")


async def test_full_session_waitlist_and_promotion_on_cancel(
    world, people, services, dispatcher, api
):
    session_id = world.sessions["norwich_cuppa"]  # two places
    ann, bob, cat, dan = [
        await resident(
            people,
            310 + n,
            name,
        )
        for n, name in enumerate(["Ann", "Bob", "Cat", "Dan"])
    ]
    for person in (ann, bob):
        await open_session(person, session_id)
        await person.press("Book a place")
    details = await open_session(cat, session_id)
    assert "Full: you can join the waiting list" in details.text
    [shown] = await cat.press("Join the waiting list")
    assert shown.text.startswith("That session is full, so I've put you on the waiting list.")
    assert "You are number 1 on the waiting list." in shown.text
    await open_session(dan, session_id)
    [shown] = await dan.press("Join the waiting list")
    assert "You are number 2 on the waiting list." in shown.text

    [shown] = await bob.send("/mybookings")
    await bob.press("Cancel 1")
    [shown] = await bob.press("Yes, cancel it")
    assert shown.text.startswith("Done: I've cancelled that.")

    # The promotion notice was written with the change and goes out through the outbox.
    assert await count(services.db, OutboxMessage, kind="waitlist_place", chat_id=312) == 1
    report = await dispatcher.sweep()
    assert report.sent == 1
    notice = cat.last
    assert notice.text.startswith("Good news, Cat! A place has come up and it's yours")
    assert "You have a place." in notice.text
    assert notice.labels() == ["Add to my calendar", "My bookings"] or notice.labels() == [
        "Add to calendar",
        "My bookings",
    ]
    [shown] = await dan.send("/mybookings")
    assert "You are number 1 on the waiting list." in shown.text
    assert await count(services.db, Booking, session_id=session_id, status="booked") == 2


async def test_cancelling_a_waiting_list_place_promotes_nobody(world, people, services):
    session_id = world.sessions["norwich_cuppa"]
    people_ = [await resident(people, 320 + n, f"P{n}") for n in range(3)]
    for person in people_:
        await open_session(person, session_id)
        await person.press_data(actions.book(session_id))
    await people_[2].send("/mybookings")
    [shown] = await people_[2].press("Cancel 1")
    assert "your place on the waiting list" in shown.text
    await people_[2].press("Yes, cancel it")
    assert await count(services.db, OutboxMessage, kind="waitlist_place") == 0
    assert await count(services.db, Booking, status="booked") == 2


async def test_my_bookings_lists_upcoming_with_cancel_and_calendar(world, people, clock):
    margaret = await resident(people, 330, "Margaret")
    [shown] = await margaret.send("/mybookings")
    assert shown.text == "You have no upcoming bookings."
    for name in ("online_cuppa", "dereham_knit"):
        await open_session(margaret, world.sessions[name])
        await margaret.press("Book a place")
    [shown] = await margaret.send("/mybookings")
    assert shown.text.startswith("Your bookings:\n\n1. Knit and Natter: Tue 24 Nov, 3pm")
    assert "2. Just a Cuppa: Wed 25 Nov, 11am" in shown.text
    assert shown.labels()[:4] == ["Cancel 1", "Calendar 1", "Cancel 2", "Calendar 2"]
    clock.advance(7 * 3600)  # the knitting has started: no longer upcoming
    [shown] = await margaret.send("/mybookings")
    assert shown.text.startswith("Your bookings:\n\n1. Just a Cuppa: Wed 25 Nov, 11am")


async def test_join_link_only_for_people_booked(world, people):
    session_id = world.sessions["online_cuppa"]
    booked = await resident(people, 340, "Booked")
    browsing = await resident(people, 341, "Browsing")
    details = await open_session(browsing, session_id)
    assert "Where: Online" in details.text
    assert "meet.example.org" not in details.text
    await open_session(booked, session_id)
    [confirmation] = await booked.press("Book a place")
    assert "Join online: https://meet.example.org/secret-room" in confirmation.text
    [mine] = await booked.send("/mybookings")
    assert "Join online: https://meet.example.org/secret-room" in mine.text
    everything_browsing_saw = "\n".join(shown.text for shown in browsing.screen())
    assert "meet.example.org" not in everything_browsing_saw


async def test_waiting_list_place_does_not_show_the_link(world, people, services):
    session_id = world.sessions["online_cuppa"]
    async with services.db.transaction() as session:
        from bot.db.models import LibrarySession

        row = await session.get(LibrarySession, session_id)
        row.capacity = 0
    waiting = await resident(people, 342, "Waiting")
    await open_session(waiting, session_id)
    [shown] = await waiting.press("Join the waiting list")
    assert "meet.example.org" not in shown.text


async def test_calendar_file(world, people):
    margaret = await resident(people, 350, "Margaret")
    await open_session(margaret, world.sessions["online_cuppa"])
    await margaret.press("Book a place")
    [document] = await margaret.press("Add to my calendar")
    filename, content = document.document
    assert filename == "just-a-cuppa-2026-11-25.ics"
    calendar = Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Just a Cuppa (Norfolk Libraries)"
    assert event.decoded("DTSTART").isoformat() == "2026-11-25T11:00:00+00:00"
    assert event.decoded("DTEND").isoformat() == "2026-11-25T12:00:00+00:00"
    assert str(event["LOCATION"]) == "Online"
    assert "https://meet.example.org/secret-room" in str(event["DESCRIPTION"])
    assert len(event.walk("VALARM")) == 1


async def test_fifty_people_race_for_ten_places(world, people, services):
    """Exactly ten get a place and forty wait, whatever the interleaving."""
    session_id = world.sessions["dereham_cuppa"]
    async with services.db.transaction() as session:
        from bot.db.models import LibrarySession

        (await session.get(LibrarySession, session_id)).capacity = 10
    crowd = [people(1000 + n, f"Person {n}") for n in range(50)]
    for person in crowd:
        await services.people.consent(person.user_id, person.first_name)
    replies = await asyncio.gather(
        *(person.press_data(actions.book(session_id)) for person in crowd)
    )
    assert all(len(shown) == 1 for shown in replies)
    texts = [shown[0].text for shown in replies]
    assert sum(text.startswith("You're booked in.") for text in texts) == 10
    assert sum(text.startswith("That session is full") for text in texts) == 40
    assert await count(services.db, Booking, session_id=session_id, status="booked") == 10
    assert await count(services.db, Booking, session_id=session_id, status="waiting") == 40
    positions = sorted(
        int(text.split("You are number ")[1].split(" ")[0])
        for text in texts
        if "You are number" in text
    )
    assert positions == list(range(1, 41))
