"""/sessions: one question at a time (kind, place, day), paged lists within Telegram's limits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db.models import Library
from bot.demo import seed_demo
from tests.world import DEREHAM


async def registered(people, user_id: int, name: str, area: str | None, library: str | None):
    person = people(user_id, name)
    await person.send("/start")
    await person.press("Yes, that's fine")
    if library is None:
        await person.press("Skip this")
    else:
        await person.press(area)
        await person.press(library)
    await person.press("Both")
    return person


def listed(shown) -> list[str]:
    """The session buttons on a list (the ones that open a session)."""
    return [label for label, data in shown.all_buttons() if data.startswith("sv:")]


async def test_margaret_finds_just_a_cuppa_at_her_library(world, people):
    margaret = await registered(people, 201, "Margaret", "Breckland", "Dereham Library")
    [shown] = await margaret.send("/sessions")
    assert shown.text == "What kind of session are you looking for?"
    assert shown.labels()[:3] == ["Just a Cuppa", "Knit and Natter", "Colour Me Calm"]
    [shown] = await margaret.press("Just a Cuppa")
    assert shown.labels()[:4] == [
        "At Dereham Library",
        "Near me (share my location)",
        "Online",
        "Anywhere in Norfolk",
    ]
    [shown] = await margaret.press("At Dereham Library")
    assert shown.text == "When would you like to go?"
    [shown] = await margaret.press("Any day")
    assert shown.text.startswith(
        "Just a Cuppa sessions at Dereham Library, in the next four weeks: 1 found"
    )
    assert "Where: Dereham Library, 59 High Street, Dereham NR19 1DZ" in shown.text
    assert "When: Wed 25 Nov, 10am (1 hour)" in shown.text
    assert "Places: 12 places left" in shown.text
    assert "Access: Biscuits provided. Step-free entrance; hearing loop" in shown.text
    assert listed(shown) == ["1. Wed 25 Nov, 10am · Just a Cuppa · Dereham"]


async def test_filter_by_day(world, people):
    ann = await registered(people, 202, "Ann", None, None)
    await ann.send("/sessions")
    await ann.press("Any kind of session")
    await ann.press("Anywhere in Norfolk")
    [today] = await ann.press("Today")
    assert listed(today) == ["1. Tue 24 Nov, 3pm · Knit and Natter · Dereham"]
    await ann.press("Change day")
    [week] = await ann.press("This week")
    assert [label.split(" · ")[1] for label in listed(week)] == [
        "Knit and Natter",
        "Just a Cuppa",
        "Just a Cuppa",
        "Just a Cuppa",
    ]
    await ann.press("Change day")
    [next_week] = await ann.press("Next week")
    assert listed(next_week) == [
        "1. Tue 1 Dec, 9am · Knit and Natter · Norwich",
        "2. Wed 2 Dec, 9am · Colour Me Calm · Online",
    ]


async def test_filter_online_only_never_shows_the_join_link(world, people):
    ann = await registered(people, 203, "Ann", None, None)
    await ann.send("/sessions")
    await ann.press("Any kind of session")
    await ann.press("Online")
    [shown] = await ann.press("Any day")
    assert "Where: Online" in shown.text
    assert len(listed(shown)) == 2
    assert "meet.example.org" not in shown.text
    [details] = await ann.press(listed(shown)[0])
    assert "meet.example.org" not in details.text
    assert "Book a place" in details.labels()


async def test_filter_near_a_shared_location_shows_distances(world, people):
    ann = await registered(people, 204, "Ann", None, None)
    await ann.send("/sessions")
    await ann.press("Knit and Natter")
    [shown] = await ann.press("Near me (share my location)")
    assert "Share my location" in shown.reply_keyboard[0][0]["text"]
    thanks, question = await ann.share_location(*DEREHAM)
    assert "Dereham Library, 0.0 miles away" in thanks.text
    assert question.text == "When would you like to go?", "kind was kept, place is now set"
    [shown] = await ann.press("Any day")
    assert "Knit and Natter sessions near you" in shown.text
    assert "(0.0 miles away)" in shown.text
    assert "Mile Cross Library" in shown.text and "miles away)" in shown.text


async def test_location_without_consent_still_finds_sessions(world, people, services):
    stranger = people(205, "Sam")
    thanks, question = await stranger.share_location(*DEREHAM)
    assert "Dereham Library" in thanks.text
    assert question.text == "What kind of session are you looking for?"
    assert await services.people.by_telegram(205) is None


async def test_typing_a_town_at_the_place_question(world, people):
    ann = await registered(people, 206, "Ann", None, None)
    await ann.send("/sessions")
    await ann.press("Any kind of session")
    [choices] = await ann.send("Norwich")
    assert choices.text == "Which library did you mean?"
    assert choices.labels() == [
        "Mile Cross Library",
        "Norwich Millennium Library",
        "All libraries in Norwich",
        "Menu",
    ]
    await ann.press("All libraries in Norwich")
    [shown] = await ann.press("Any day")
    assert shown.text.startswith("Sessions in Norwich, in the next four weeks: 2 found")
    assert len(listed(shown)) == 2


async def test_typing_an_activity_word_goes_straight_to_it(world, people):
    ann = await registered(people, 207, "Ann", None, None)
    [shown] = await ann.send("I'd love a cup of tea")
    assert shown.text.startswith("Where would you like to go?")
    await ann.press("Anywhere in Norfolk")
    [shown] = await ann.press("Any day")
    assert shown.text.startswith("Just a Cuppa sessions anywhere in Norfolk")


async def test_home_library_filter_needs_a_home_library(world, people):
    ann = await registered(people, 208, "Ann", None, None)
    [shown] = await ann.send("/sessions")
    [shown] = await ann.press("Just a Cuppa")
    assert not any(label.startswith("At ") for label in shown.labels())


async def test_paging_through_four_weeks_of_demo_sessions(people, services, clock, api):
    await seed_demo(services.db, services.config, clock)
    ann = await registered(people, 209, "Ann", None, None)
    await ann.send("/sessions")
    await ann.press("Any kind of session")
    await ann.press("Anywhere in Norfolk")
    [page] = await ann.press("Any day")
    first_page = listed(page)
    assert len(first_page) == services.config.sessions.page_size
    assert "Later ▶" in page.labels() and "◀ Earlier" not in page.labels()
    pages = int(page.text.split(" of ")[1].split(")")[0])
    assert pages > 20
    seen = set(first_page)
    for _ in range(pages - 1):
        [page] = await ann.press("Later ▶")
        assert not seen & set(listed(page))
        seen |= set(listed(page))
    assert "Later ▶" not in page.labels()
    [page] = await ann.press("◀ Earlier")
    assert "Later ▶" in page.labels()
    # The stand-in answers like Telegram: over-long texts or callback data would have failed.
    assert all(call.ok for call in api.calls)
    longest = max(len(shown.text) for shown in api.timeline)
    assert longest < 4096


async def test_sessions_that_started_are_not_listed(world, people, clock):
    ann = await registered(people, 210, "Ann", None, None)
    clock.advance(timedelta(hours=7).total_seconds())  # 4pm: today's 3pm knitting has begun
    await ann.send("/sessions")
    await ann.press("Knit and Natter")
    await ann.press("Anywhere in Norfolk")
    [shown] = await ann.press("Today")
    assert "I couldn't find any Knit and Natter sessions" in shown.text
    assert "0344 800 8020" in shown.text


async def test_a_library_added_by_another_process_is_found_at_once(world, services):
    """Libraries are kept in memory a while; one added meanwhile (a second process, a change
    by hand) is looked up again rather than missed."""
    before = await services.libraries.all()
    async with services.db.transaction() as session:
        session.add(
            Library(
                name="Wells Library",
                town="Wells-next-the-Sea",
                area="North",
                address="Station Road",
                postcode="NR23 1EA",
                latitude=52.95,
                longitude=0.85,
                phone="01328 710 467",
            )
        )
        await session.flush()
        added = (
            await session.scalars(select(Library).where(Library.name == "Wells Library"))
        ).one()
    found = await services.libraries.get(added.id)
    assert found is not None and found.town == "Wells-next-the-Sea"
    assert len(await services.libraries.all()) == len(before) + 1
