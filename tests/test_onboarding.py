"""/start: consent before anything is kept, then a home library three ways, then a preference."""

from __future__ import annotations

from bot.db.models import Person
from tests.world import DEREHAM, count


async def test_start_asks_consent_and_keeps_nothing_before_yes(world, people, services):
    margaret = people(101)
    [shown] = await margaret.send("/start")
    assert "Hello! I'm Cuppa" in shown.text
    assert "Is that OK?" in shown.text
    assert shown.labels() == ["Yes, that's fine", "No thanks", "Tell me more"]
    assert await count(services.db, Person) == 0

    [shown] = await margaret.press("Tell me more")
    assert "isn't kept" in shown.text
    assert await count(services.db, Person) == 0

    [shown] = await margaret.press("No thanks")
    assert "I haven't kept anything about you" in shown.text
    assert await count(services.db, Person) == 0


async def test_library_from_the_list_by_area(world, people, services):
    margaret = people(102, "Margaret")
    await margaret.send("/start")
    [shown] = await margaret.press("Yes, that's fine")
    assert "Which library is nearest to you?" in shown.text
    assert {"Breckland", "Norwich", "Use my location", "Type my town", "Skip this"} <= set(
        shown.labels()
    )
    [shown] = await margaret.press("Breckland")
    assert shown.labels()[:1] == ["Dereham Library"]
    [shown] = await margaret.press("Dereham Library")
    assert "Dereham Library is now your library" in shown.text
    assert shown.labels() == ["In person", "Online", "Both"]
    [shown] = await margaret.press("In person")
    assert "you're all set" in shown.text
    assert "Find a session" in shown.labels()

    person = await services.people.by_telegram(102)
    assert person.first_name == "Margaret"
    assert person.home_library.name == "Dereham Library"
    assert person.preference == "in_person"

    [shown] = await margaret.send("/start")
    assert shown.text == "Hello, Margaret. What would you like to do?"


async def test_library_by_typing_a_town(world, people, services):
    john = people(103, "John")
    await john.send("/start")
    await john.press("Yes, that's fine")
    [shown] = await john.press("Type my town")
    assert "type the name of your town" in shown.text
    [shown] = await john.send("norwich")
    assert shown.text == "Is it one of these?"
    assert shown.labels()[:2] == ["Mile Cross Library", "Norwich Millennium Library"]
    await john.press("Mile Cross Library")
    await john.press("Online")
    person = await services.people.by_telegram(103)
    assert person.home_library.name == "Mile Cross Library"
    assert person.preference == "online"
    assert person.awaiting is None


async def test_unknown_town_asks_again_kindly(world, people, services):
    john = people(104, "John")
    await john.send("/start")
    await john.press("Yes, that's fine")
    await john.press("Type my town")
    [shown] = await john.send("Atlantis")
    assert "couldn't find a library by that name" in shown.text
    assert "Breckland" in shown.labels()
    assert (await services.people.by_telegram(104)).home_library is None


async def test_library_by_sharing_a_location(world, people, services):
    ann = people(105, "Ann")
    await ann.send("/start")
    await ann.press("Yes, that's fine")
    [shown] = await ann.press("Use my location")
    assert shown.reply_keyboard[0][0]["request_location"] is True
    thanks, choices = await ann.share_location(DEREHAM[0] + 0.01, DEREHAM[1])
    assert "nearest library to you is Dereham Library" in thanks.text
    assert choices.labels()[0].startswith("Dereham Library (0.7 miles)")
    await ann.press(choices.labels()[0])
    await ann.press("Both")
    assert (await services.people.by_telegram(105)).home_library.name == "Dereham Library"


async def test_skipping_the_library_and_changing_it_later(world, people, services):
    bill = people(106, "Bill")
    await bill.send("/start")
    await bill.press("Yes, that's fine")
    [shown] = await bill.press("Skip this")
    assert "in person, online, or both" in shown.text
    await bill.press("Both")
    [shown] = await bill.press("My library and settings")
    assert "Your library: not chosen yet" in shown.text
    await bill.press("Change my library")
    await bill.press("Norwich")
    await bill.press("Norwich Millennium Library")
    await bill.press("In person")
    [shown] = await bill.press("My library and settings")
    assert "Your library: Norwich Millennium Library" in shown.text
    assert "You prefer sessions in person." in shown.text
