"""Following an activity or a library, what I follow, news on or off, and the daily digest of
new sessions: one message a day at most per follower, nothing for anyone else.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from bot.db.models import Follow, OutboxMessage, Person
from bot.services.staff_sessions import SessionPlan
from tests.conftest import STAFF_ID
from tests.world import count, open_session, person_id, resident, snapshot

EXPIRED = "Sorry, that button no longer works."


async def following(person):
    await person.send("/start")
    await person.press("My library and settings")
    [shown] = await person.press("What I follow")
    return shown


# ---------------------------------------------------------------------------------------------
# Following from a session's details, and unfollowing in settings
# ---------------------------------------------------------------------------------------------


async def test_follow_an_activity_and_a_library_from_a_session(world, people, services):
    margaret = await resident(people, 501, "Margaret")
    details = await open_session(margaret, world.sessions["dereham_cuppa"])
    assert details.labels() == [
        "Book a place",
        "Follow Just a Cuppa",
        "Follow Dereham Library",
        "Back",
        "Menu",
    ]
    [shown] = await margaret.press("Follow Just a Cuppa")
    assert shown.text.startswith("You're now following Just a Cuppa.")
    assert "once a day at most" in shown.text
    assert shown.labels() == ["What I follow", "Menu"]
    # The details stay on screen above, with their Back button.
    assert margaret.screen()[-2].labels() == details.labels()

    [shown] = await margaret.press("Follow Dereham Library")
    assert shown.text.startswith("You're now following Dereham Library.")
    [shown] = await margaret.press("Follow Just a Cuppa")
    assert shown.text == "You're already following Just a Cuppa."
    assert await count(services.db, Follow) == 2


async def test_an_online_session_offers_only_its_activity(world, people):
    margaret = await resident(people, 502, "Margaret")
    details = await open_session(margaret, world.sessions["online_colour"])
    assert details.labels() == ["Book a place", "Follow Colour Me Calm", "Back", "Menu"]


async def test_following_needs_consent_first(world, people, services):
    stranger = people(503, "Sam")
    details = await open_session(stranger, world.sessions["dereham_cuppa"])
    assert details.labels() == ["Book a place", "Back", "Menu"]
    before = await snapshot(services.db)
    for data in ("fo:a1", "fo:l1", "fo:ls", "fo:n1", "fo:u1"):
        [shown] = await stranger.press_data(data)
        assert shown.text.startswith("To follow sessions, I need your OK")
        assert "Is that OK?" in shown.text
    assert await snapshot(services.db) == before
    assert await count(services.db, Follow) == 0


async def test_what_i_follow_and_unfollow(world, people, services):
    margaret = await resident(people, 504, "Margaret")
    shown = await following(margaret)
    assert shown.text.startswith("You're not following anything yet.")
    assert shown.labels() == ["Find a session", "Back", "Menu"]

    await open_session(margaret, world.sessions["mile_cross_knit"])
    await margaret.press("Follow Knit and Natter")
    await margaret.press("Follow Mile Cross Library")
    shown = await following(margaret)
    assert shown.text.startswith("You follow:\n• Knit and Natter\n• Mile Cross Library")
    assert shown.labels() == [
        "Unfollow Knit and Natter",
        "Unfollow Mile Cross Library",
        "Back",
        "Menu",
    ]
    [shown] = await margaret.press("Unfollow Mile Cross Library")
    assert shown.text.startswith(
        "Done: you've stopped following Mile Cross Library.\n\nYou follow:\n• Knit and Natter"
    )
    assert shown.labels() == ["Unfollow Knit and Natter", "Back", "Menu"]
    [shown] = await margaret.press("Back")
    assert shown.text.startswith("Your library:")
    assert await count(services.db, Follow) == 1


async def test_nobody_can_unfollow_for_someone_else(world, people, services):
    margaret = await resident(people, 505, "Margaret")
    bob = await resident(people, 506, "Bob")
    await open_session(margaret, world.sessions["dereham_cuppa"])
    await margaret.press("Follow Just a Cuppa")
    async with services.db.transaction() as session:
        margarets = await session.scalar(select(Follow.id))
    before = await snapshot(services.db)
    [shown] = await bob.press_data(f"fo:u{margarets}")
    assert shown.text.startswith("That one had already gone.")
    assert "You're not following anything yet." in shown.text
    assert await snapshot(services.db) == before
    assert await count(services.db, Follow) == 1


@pytest.mark.parametrize(
    "data",
    ["fo:", "fo:a", "fo:a999", "fo:l999", "fo:x1", "fo:a1x", "fo:a١", "fo:a1234567890", "fo:n2"],
)
async def test_made_up_follow_data_changes_nothing(world, people, services, data):
    margaret = await resident(people, 507, "Margaret")
    before = await snapshot(services.db)
    replies = await margaret.press_data(data)
    assert replies[0].text.startswith(EXPIRED)
    assert await snapshot(services.db) == before
    assert await count(services.db, Follow) == 0


# ---------------------------------------------------------------------------------------------
# News from the library
# ---------------------------------------------------------------------------------------------


async def news_opt_in(services, telegram_id: int) -> bool:
    async with services.db.transaction() as session:
        return bool(
            await session.scalar(
                select(Person.news_opt_in).where(Person.telegram_id == telegram_id)
            )
        )


async def test_news_on_and_off_in_settings(world, people, services):
    margaret = await resident(people, 510, "Margaret")
    await margaret.send("/start")
    [shown] = await margaret.press("My library and settings")
    assert "News from the library: off" in shown.text
    [shown] = await margaret.press("News: turn on")
    assert shown.text.startswith("Done: I'll send you the occasional bit of news")
    assert shown.labels() == ["Back", "Menu"]
    assert await news_opt_in(services, 510)
    [shown] = await margaret.press("Back")
    assert "News from the library: on" in shown.text
    [shown] = await margaret.press("News: turn off")
    assert shown.text.startswith("Done: no more news from the library.")
    assert not await news_opt_in(services, 510)
    assert (await services.broadcasts.audience("all")).size == 0


# ---------------------------------------------------------------------------------------------
# The daily digest
# ---------------------------------------------------------------------------------------------


def plan(world, activity: str, library: str | None, day: date) -> SessionPlan:
    return SessionPlan(
        activity_id=world.activities[activity],
        library_id=world.libraries[library] if library else None,
        day=day,
        start=time(10, 30),
        join_link="" if library else "https://meet.example.org/new-room",
    )


async def test_one_digest_per_follower_listing_every_new_session(
    world, people, services, clock, dispatcher
):
    margaret = await resident(people, 520, "Margaret")  # follows Just a Cuppa
    bob = await resident(people, 521, "Bob")  # follows Mile Cross Library
    cat = await resident(people, 522, "Cat")  # follows Colour Me Calm: nothing new
    dan = await resident(people, 523, "Dan")  # follows nothing
    await services.follows.follow(
        await person_id(services, 520), activity_id=world.activities["Just a Cuppa"]
    )
    await services.follows.follow(
        await person_id(services, 521), library_id=world.libraries["Mile"]
    )
    await services.follows.follow(
        await person_id(services, 522), activity_id=world.activities["Colour Me Calm"]
    )
    seen = {person.user_id: len(person.screen()) for person in (margaret, bob, cat, dan)}
    assert await services.follows.send_digests() == 0  # nothing new yet

    clock.advance(600)
    await services.admin.create(STAFF_ID, plan(world, "Just a Cuppa", "Dereham", date(2026, 12, 2)))
    await services.admin.create(STAFF_ID, plan(world, "Just a Cuppa", None, date(2026, 12, 3)))
    await services.admin.create(STAFF_ID, plan(world, "Knit and Natter", "Mile", date(2026, 12, 4)))

    assert await services.follows.send_digests() == 2
    assert await count(services.db, OutboxMessage, kind="follow_digest") == 2
    report = await dispatcher.sweep()
    assert report.sent == 2

    assert len(margaret.screen()) == seen[520] + 1
    digest = margaret.last
    assert digest.text == (
        "New sessions you might like, from what you follow:\n\n"
        "• Wed 2 Dec, 10:30am · Just a Cuppa · Dereham\n"
        "• Thu 3 Dec, 10:30am · Just a Cuppa · Online\n"
        "\nTap one to see it and book."
    )
    assert digest.labels() == [
        "Wed 2 Dec, 10:30am · Just a Cuppa · Dereham",
        "Thu 3 Dec, 10:30am · Just a Cuppa · Online",
        "Find a session",
    ]
    assert len(bob.screen()) == seen[521] + 1
    assert "• Fri 4 Dec, 10:30am · Knit and Natter · Norwich" in bob.last.text
    assert "Just a Cuppa" not in bob.last.text
    assert len(cat.screen()) == seen[522]
    assert len(dan.screen()) == seen[523]

    # Tapping a session in the digest opens it, ready to book.
    [shown] = await margaret.press("Wed 2 Dec, 10:30am · Just a Cuppa · Dereham")
    assert shown.text.startswith("Just a Cuppa\nWhere: Dereham Library")
    assert "Book a place" in shown.labels()

    # Within the day, nothing more, even with another new session.
    clock.advance(3 * 3600)
    await services.admin.create(STAFF_ID, plan(world, "Just a Cuppa", "Dereham", date(2026, 12, 9)))
    assert await services.follows.send_digests() == 0
    assert (await dispatcher.sweep()).sent == 0
    assert await count(services.db, OutboxMessage, kind="follow_digest") == 2

    # The next day's run brings only that one.
    clock.advance(21 * 3600)
    assert await services.follows.send_digests() == 1
    await dispatcher.sweep()
    assert margaret.last.text.splitlines()[2:3] == ["• Wed 9 Dec, 10:30am · Just a Cuppa · Dereham"]
    assert "Wed 2 Dec" not in margaret.last.text


async def test_generated_weekly_sittings_are_not_announced_again(
    world, people, services, clock, dispatcher
):
    await resident(people, 530, "Margaret")
    await services.follows.follow(
        await person_id(services, 530), activity_id=world.activities["Knit and Natter"]
    )
    clock.advance(600)
    weekly = SessionPlan(
        activity_id=world.activities["Knit and Natter"],
        library_id=world.libraries["Dereham"],
        day=date(2026, 11, 26),
        start=time(14, 0),
        weekly=True,
    )
    await services.admin.create(STAFF_ID, weekly)
    assert await services.follows.send_digests() == 1
    await dispatcher.sweep()
    async with services.db.transaction() as session:
        [text] = await session.scalars(
            select(OutboxMessage.text).where(OutboxMessage.kind == "follow_digest")
        )
    assert text.count("Knit and Natter") == 1
    assert "Thu 26 Nov, 2pm" in text
