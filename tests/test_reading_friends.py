"""Reading Friends, the reader's side: registering (oneself, someone one cares for, or by staff),
booking calls once or weekly, the volunteer's offer, next calls, cancelling, pausing and asking
for a different volunteer; and bad input at every step, which changes nothing.

Conversations go through the real Application and the local Bot API stand-in, with the clock
under the test's control (START is Tue 24 Nov 2026, 9am). The volunteer is made at service
level: Sam is free on Tuesdays 10am-12pm and Wednesdays 2pm-3pm.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, select

from bot import reader_actions as ra
from bot.db.models import (
    Base,
    CallBooking,
    CallOffer,
    CallSeries,
    Dialog,
    OutboxMessage,
    Person,
    Reader,
    StaffAction,
)
from bot.services.views import WindowView
from bot.telegram.local_api import Shown
from tests.conftest import STAFF_ID
from tests.world import approved_volunteer, count, deliver_everything, resident, rows, snapshot

# Two valid UK numbers that appear nowhere else, as typed and as their bare digits.
MY_PHONE, MY_DIGITS = "07400 123456", "7400123456"
EDNA_PHONE, EDNA_DIGITS = "020 7946 0018", "2079460018"
STAFF_PHONE, STAFF_DIGITS = "0161 496 0000", "1614960000"
ALL_DIGITS = (MY_DIGITS, EDNA_DIGITS, STAFF_DIGITS)
BAD_NUMBER = "That doesn't look like a UK phone number."
CANT_FIND = "Sorry, I can't find that."
EXPIRED = "Sorry, that button no longer works."
BUTTONS_PLEASE = "Please choose from the buttons below."
CRASHED = "something went wrong"
SAM_ID = 2001


@pytest.fixture
async def sam(services):  # type: ignore[no-untyped-def]
    windows = [WindowView(1, 600, 720), WindowView(2, 840, 900)]
    return await approved_volunteer(services, SAM_ID, "Sam", windows, 3, ["stories"])


async def everything(services) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Every row a resident can change, Reading Friends' tables and open forms included."""
    state: dict[str, Any] = dict(await snapshot(services.db))
    for model in (Reader, CallSeries, CallBooking, CallOffer, Dialog):
        state[model.__tablename__] = [
            tuple(getattr(row, column.key) for column in model.__table__.columns)
            for row in await rows(services, model)
        ]
    return state


@asynccontextmanager
async def nothing_changes(services: Any) -> AsyncIterator[None]:
    before = await everything(services)
    yield
    assert await everything(services) == before, "bad input changed the database"


def kind(replies: list[Shown]) -> Shown:
    """At least one non-empty reply, none of them the crash apology; the last one shown."""
    assert replies, "the person got no reply at all"
    for shown in replies:
        assert shown.text.strip()
        assert CRASHED not in shown.text
    return replies[-1]


async def plain_text_anywhere(services, needles: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every table's text columns, read raw, that contain any of the digit strings (spaces
    and punctuation removed, so "07400 123456" is found as well as "+447400123456")."""
    found = []
    async with services.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in await session.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    digits = "".join(ch for ch in str(value) if ch.isdigit())
                    if any(needle in digits for needle in needles):
                        found.append(f"{table.name}.{column.name}")
    return found


async def register_me(person) -> Shown:  # type: ignore[no-untyped-def]
    """Margaret registers herself: Stories and Nature, hard of hearing."""
    await person.send("/readingfriends")
    await person.press("Register for calls")
    await person.press("Me")
    await person.press(person.first_name)
    await person.send(MY_PHONE)
    await person.press("Stories")
    await person.press("Nature")
    await person.press("Done")
    await person.press("Hard of hearing")
    [shown] = await person.press("Yes, I agree")
    return shown


async def register_edna(person) -> Shown:  # type: ignore[no-untyped-def]
    """Ruth registers Edna, whom she cares for: Poetry, likes to talk about her garden."""
    await person.send("/readingfriends")
    await person.press("Register for calls")
    await person.press("Someone I care for or refer")
    await person.send("Edna")
    await person.send(EDNA_PHONE)
    await person.press("Poetry")
    await person.press("Done")
    await person.send("Likes to talk about her garden")
    [shown] = await person.press("Yes, they agree")
    return shown


# registering -----------------------------------------------------------------------------------


async def test_reading_friends_asks_consent_first(people, services):
    stranger = people(401, "Stan")
    [shown] = await stranger.send("/readingfriends")
    assert shown.text.startswith("Reading Friends: a friendly volunteer phones")
    assert "Is that OK?" in shown.text
    assert "Yes, that's fine" in shown.labels()
    assert await count(services.db, Person) == 0


async def test_the_menu_and_typed_words_lead_here(people):
    margaret = await resident(people, 402, "Margaret")
    [shown] = await margaret.send("/start")
    [shown] = await margaret.press("Reading Friends")
    assert shown.text.startswith("Reading Friends: a friendly volunteer phones")
    assert shown.labels() == ["Register for calls", "Menu"]
    for words in ("reading", "Reading Friends", "my mum is housebound"):
        [shown] = await margaret.send(words)
        assert shown.text.startswith("Reading Friends: a friendly volunteer phones"), words


async def test_registering_myself_one_question_at_a_time(people, services, sam):
    margaret = await resident(people, 403, "Margaret")
    [shown] = await margaret.send("/readingfriends")
    [shown] = await margaret.press("Register for calls")
    assert shown.text == "Who are the calls for?"
    assert shown.labels() == ["Me", "Someone I care for or refer", "Back", "Menu"]
    [shown] = await margaret.press("Me")
    assert shown.text.startswith("What's your first name?")
    assert shown.labels() == ["Margaret", "Back", "Menu"]
    [shown] = await margaret.press("Margaret")
    assert shown.text.startswith("What number should the volunteer phone you on?")

    [shown] = await margaret.send("12345")
    assert shown.text.startswith(BAD_NUMBER)
    assert "What number should the volunteer phone you on?" in shown.text
    [shown] = await margaret.send(MY_PHONE)
    assert shown.text == "What do you enjoy? Tap all that apply, then Done."
    [shown] = await margaret.press("Stories")
    assert "✓ Stories" in shown.labels()
    await margaret.press("Nature")
    [shown] = await margaret.press("✓ Stories")  # untick
    assert "Stories" in shown.labels() and "✓ Nature" in shown.labels()
    await margaret.press("Stories")
    [shown] = await margaret.press("Done")
    assert shown.text.startswith("Is there anything the volunteer should know?")
    assert shown.labels()[:4] == [
        "Hard of hearing",
        "Afternoons only",
        "Mornings only",
        "No particular needs",
    ]
    [shown] = await margaret.press("Hard of hearing")
    assert shown.text == (
        "Do you agree to a volunteer phoning you, and to us keeping your name and number for that?"
    )
    [shown] = await margaret.press("Yes, I agree")
    assert shown.text.startswith("Thank you: you're registered for Reading Friends.")
    assert shown.labels() == ["Book a call", "Not now", "Menu"]

    [reader] = await rows(services, Reader)
    me = (await services.people.by_telegram(403)).id
    assert reader.first_name == "Margaret" and reader.contact_person_id == me
    assert sorted(reader.interests) == ["nature", "stories"]
    assert reader.needs == "Hard of hearing"
    assert services.vault.open(reader.phone_encrypted) == "+447400123456"
    assert await rows(services, Dialog) == [], "the finished form is gone"


async def test_registering_someone_i_care_for(people, services):
    ruth = await resident(people, 404, "Ruth")
    await ruth.send("/readingfriends")
    await ruth.press("Register for calls")
    [shown] = await ruth.press("Someone I care for or refer")
    assert shown.text == "What's their first name? Please type it."
    [shown] = await ruth.send("Edna")
    assert shown.text.startswith("What number should the volunteer phone Edna on?")
    [shown] = await ruth.send("01603 77477")  # a digit short
    assert shown.text.startswith(BAD_NUMBER)
    [shown] = await ruth.send(EDNA_PHONE)
    assert shown.text.startswith("What does Edna enjoy?")
    await ruth.press("Poetry")
    [shown] = await ruth.press("Done")
    assert "if Edna is hard of hearing" in shown.text
    [shown] = await ruth.send("Likes to talk about her garden")
    assert shown.text == (
        "Does Edna agree to a volunteer phoning them, and to us keeping their name and number "
        "for that?"
    )
    assert shown.labels() == ["Yes, they agree", "No", "Back", "Menu"]
    [shown] = await ruth.press("Yes, they agree")
    assert shown.text.startswith("Thank you: Edna is registered for Reading Friends.")
    [reader] = await rows(services, Reader)
    assert reader.needs == "Likes to talk about her garden" and reader.interests == ["poetry"]
    assert services.vault.open(reader.phone_encrypted) == "+442079460018"

    [shown] = await ruth.send("/readingfriends")
    assert "Reading Friends calls for Edna." in shown.text
    assert "No calls booked yet." in shown.text
    assert shown.labels() == [
        "Book a call",
        "Next calls",
        "Pause all calls",
        "Ask for a different volunteer",
        "Register someone else",
        "Menu",
    ]


async def test_back_goes_to_the_question_before(people, services):
    ruth = await resident(people, 405, "Ruth")
    await ruth.send("/readingfriends")
    await ruth.press("Register for calls")
    await ruth.press("Someone I care for or refer")
    await ruth.send("Edna")
    [shown] = await ruth.press("Back")
    assert shown.text == "What's their first name? Please type it."
    await ruth.send("Edith")
    [shown] = await ruth.send(EDNA_PHONE)
    assert shown.text.startswith("What does Edith enjoy?")
    [shown] = await ruth.press("Back")
    assert shown.text.startswith("What number should the volunteer phone Edith on?")
    [shown] = await ruth.press("Menu")  # leaves the form
    assert await rows(services, Dialog) == []
    [shown] = await ruth.send("Edna")  # now just words, not an answer
    assert await count(services.db, Reader) == 0
    # Typing "menu" leaves a form too.
    await ruth.send("/readingfriends")
    await ruth.press("Register for calls")
    await ruth.press("Someone I care for or refer")
    [shown] = await ruth.send("Menu")
    assert shown.text == "OK, I've stopped that. What would you like to do?"
    assert await rows(services, Dialog) == []


async def test_saying_no_keeps_nothing(people, services):
    ruth = await resident(people, 406, "Ruth")
    await ruth.send("/readingfriends")
    await ruth.press("Register for calls")
    await ruth.press("Someone I care for or refer")
    await ruth.send("Edna")
    await ruth.send(EDNA_PHONE)
    await ruth.press("Done")
    await ruth.press("No particular needs")
    [shown] = await ruth.press("No")
    assert shown.text.startswith("That's fine: I haven't kept anything about them.")
    assert "0344 800 8020" in shown.text
    assert await count(services.db, Reader) == 0
    assert await rows(services, Dialog) == []
    assert await plain_text_anywhere(services, ALL_DIGITS) == []


# booking -----------------------------------------------------------------------------------------


async def test_book_a_one_off_call_and_the_volunteer_is_offered_it(
    people, services, sam, dispatcher, clock
):
    margaret = await resident(people, 407, "Margaret")
    await register_me(margaret)
    [shown] = await margaret.press("Book a call")
    assert shown.text == "Which day would suit Margaret for a call?"
    # Sam's Wednesdays and Tuesdays in the next fortnight (not today).
    assert shown.labels() == [
        "Wed 25 Nov",
        "Tue 1 Dec",
        "Wed 2 Dec",
        "Tue 8 Dec",
        "Back",
        "Menu",
    ]
    [shown] = await margaret.press("Tue 1 Dec")
    assert shown.text == "What time on Tue 1 Dec? Calls last about 30 minutes."
    assert shown.labels() == ["10am", "10:30am", "11am", "11:30am", "Back", "Menu"]
    [shown] = await margaret.press("10:30am")
    assert shown.text == "Tue 1 Dec, 10:30am: just this once, or every week at this time?"
    [shown] = await margaret.press("Just this once")
    assert shown.text == (
        "Booked: Tue 1 Dec, 10:30am. A volunteer will be confirmed soon; I'll message you."
    )
    [call] = await rows(services, CallBooking)
    assert call.series_id is None and call.status == "offered", "matched at once"
    assert await count(services.db, OutboxMessage, kind="call_offer") == 1

    await deliver_everything(dispatcher, clock)
    sam_screen = people(SAM_ID, "Sam").screen()
    [offer] = [s for s in sam_screen if s.text.startswith("Could you call")]
    assert "Margaret" in offer.text and "Tue 1 Dec, 10:30am" in offer.text
    assert "Stories, Nature" in offer.text and "Needs: Hard of hearing" in offer.text
    assert offer.labels() == ["Accept", "Decline"]
    assert MY_DIGITS not in "".join(ch for ch in offer.text if ch.isdigit())

    # The same time again (a second tap) books nothing more.
    [shown] = await margaret.press_data(ra.book_once(call.reader_id, _local(services, call)))
    assert shown.text.startswith("Margaret already has a call booked then.")
    assert await count(services.db, CallBooking) == 1


def _local(services, call):  # type: ignore[no-untyped-def]
    return call.starts_at.astimezone(services.config.tz).replace(tzinfo=None)


async def test_book_a_weekly_call_for_someone(people, services, sam, dispatcher, clock):
    ruth = await resident(people, 408, "Ruth")
    await register_edna(ruth)
    await ruth.press("Book a call")
    await ruth.press("Wed 25 Nov")
    [shown] = await ruth.press("2pm")
    [shown] = await ruth.press("Every week at this time")
    assert shown.text == (
        "Booked: Wed 25 Nov, 2pm, then every Wednesday at 2pm. A volunteer will be confirmed "
        "soon; I'll message you."
    )
    calls = await rows(services, CallBooking)
    assert [c.starts_at.day for c in calls] == [25, 2], "this week and next, within 14 days"
    [series] = await rows(services, CallSeries)
    assert all(c.series_id == series.id for c in calls)

    await deliver_everything(dispatcher, clock)
    offers = [s for s in people(SAM_ID, "Sam").screen() if s.text.startswith("Could you call")]
    assert offers, "Sam was offered Edna's calls"
    for offer in offers:
        assert "Edna" in offer.text and "Poetry" in offer.text
        assert "Needs: Likes to talk about her garden" in offer.text
        assert EDNA_DIGITS not in "".join(ch for ch in offer.text if ch.isdigit())

    [shown] = await ruth.press("Next calls")
    assert shown.text.startswith("Edna's next calls:\n1. Wed 25 Nov, 2pm (weekly), ")


async def test_no_volunteer_free_gives_the_phone_number(people, services):
    margaret = await resident(people, 409, "Margaret")
    await register_me(margaret)
    [shown] = await margaret.press("Book a call")
    assert shown.text.startswith("Sorry, no volunteers are free in the next two weeks.")
    assert "0344 800 8020" in shown.text
    assert shown.labels() == ["Back", "Menu"]


# next calls, cancelling, pausing, a different volunteer ----------------------------------------


@pytest.fixture
async def edna(services, sam, people):  # type: ignore[no-untyped-def]
    """Ruth (a resident) and her Edna, with Tuesday 10am calls: 1 Dec confirmed with Sam,
    8 Dec waiting for a volunteer."""
    ruth = await resident(people, 410, "Ruth")
    ruth_id = (await services.people.by_telegram(410)).id
    reader = await services.readers.register(
        first_name="Edna",
        phone=EDNA_PHONE,
        interests=["stories"],
        needs="",
        contact_person_id=ruth_id,
    )
    slots = [s for s in await services.readers.free_slots() if s.weekday() == 1]
    first = await services.readers.book(reader.id, slots[0], weekly=False)
    await services.calls.run_matching()
    [offer] = await rows(services, CallOffer)
    sam_person = (await services.volunteers.get(sam)).person_id
    await services.calls.answer(sam_person, offer.id, accept=True)
    second = await services.readers.book(reader.id, slots[4], weekly=False)
    return {"ruth": ruth, "reader": reader.id, "first": first.id, "second": second.id}


async def test_next_calls_and_cancelling_one(services, edna):
    ruth = edna["ruth"]
    [shown] = await ruth.send("/readingfriends")
    assert "Next call: Tue 1 Dec, 10am, with Sam. (2 booked calls in all.)" in shown.text
    [shown] = await ruth.press("Next calls")
    assert shown.text == (
        "Edna's next calls:\n"
        "1. Tue 1 Dec, 10am, with Sam\n"
        "2. Tue 8 Dec, 10am, looking for a volunteer"
    )
    assert shown.labels() == ["Cancel 1", "Cancel 2", "Book a call", "Back", "Menu"]
    [shown] = await ruth.press("Cancel 1")
    assert shown.text == "Cancel Edna's call on Tue 1 Dec, 10am?"
    [shown] = await ruth.press("No, keep it")
    assert shown.text.startswith("Edna's next calls:")
    await ruth.press("Cancel 1")
    [shown] = await ruth.press("Yes, cancel it")
    assert shown.text.startswith("Done: I've cancelled the call on Tue 1 Dec, 10am.")
    assert "1. Tue 8 Dec, 10am, looking for a volunteer" in shown.text
    [first] = await rows(services, CallBooking, id=edna["first"])
    assert first.status == "cancelled"
    told = await rows(services, OutboxMessage, kind="call_cancelled")
    assert len(told) == 1 and "Edna" in told[0].text, "Sam is told"


async def test_pausing_and_starting_again(services, edna):
    ruth = edna["ruth"]
    await ruth.send("/readingfriends")
    [shown] = await ruth.press("Pause all calls")
    assert shown.text.startswith("Pause all of Edna's calls?")
    [shown] = await ruth.press("No, keep them")
    assert "Reading Friends calls for Edna." in shown.text
    await ruth.press("Pause all calls")
    [shown] = await ruth.press("Yes, pause all calls")
    assert shown.text.startswith("Done: Edna's calls are paused. I've cancelled 2 booked calls.")
    assert "Their calls are paused." in shown.text
    assert shown.labels() == ["Start calls again", "Ask for a different volunteer", "Back", "Menu"]
    assert {c.status for c in await rows(services, CallBooking)} == {"cancelled"}
    # Booking while paused is refused kindly.
    [shown] = await ruth.press_data(ra.book(edna["reader"]))
    assert "Edna's calls are paused: tap Start calls again first." in shown.text
    [shown] = await ruth.press("Start calls again")
    assert shown.text.startswith("Edna's calls can start again.")
    assert "Book a call" in shown.labels()


async def test_asking_for_a_different_volunteer(services, edna, sam):
    ruth = edna["ruth"]
    await ruth.send("/readingfriends")
    [shown] = await ruth.press("Ask for a different volunteer")
    assert shown.text.startswith("Ask for a different volunteer for Edna?")
    [shown] = await ruth.press("Yes, please")
    assert shown.text.startswith("Done: I'll look for a different volunteer for Edna's calls")
    [first] = await rows(services, CallBooking, id=edna["first"])
    assert first.status == "open" and first.volunteer_id is None
    withdrawn = await rows(services, CallOffer, volunteer_id=sam, status="withdrawn")
    assert withdrawn, "Sam is never offered that call again"
    trail = [a.action for a in await rows(services, StaffAction) if a.detail.startswith("reader ")]
    assert trail == [], "a reader's own contact is not in the staff audit trail"


# staff -----------------------------------------------------------------------------------------


async def test_staff_register_a_reader_without_telegram(people, services, sam):
    staff = people(STAFF_ID, "Jo")
    [shown] = await staff.send("/staff")
    [shown] = await staff.press("Register a Reading Friends reader")
    assert shown.text.startswith("Registering a reader for Reading Friends.")
    assert "What's their first name?" in shown.text
    assert shown.labels() == ["Back", "Menu"]
    await staff.send("Albert")
    [shown] = await staff.send("not a number")
    assert shown.text.startswith(BAD_NUMBER)
    await staff.send(STAFF_PHONE)
    await staff.press("History")
    await staff.press("Done")
    await staff.press("No particular needs")
    [shown] = await staff.press("Yes, they agree")
    assert shown.text.startswith("Thank you: Albert is registered for Reading Friends.")
    assert shown.labels() == ["Book a call", "Staff menu", "Menu"]
    [reader] = await rows(services, Reader)
    assert reader.contact_person_id is None and reader.registered_by_staff == STAFF_ID
    assert reader.needs == ""
    assert await count(services.db, Person, telegram_id=STAFF_ID) == 0

    await staff.press("Book a call")
    await staff.press("Tue 1 Dec")
    await staff.press("11am")
    [shown] = await staff.press("Just this once")
    assert shown.text == (
        "Booked: Tue 1 Dec, 11am. A volunteer will be confirmed soon; I'll tell library staff."
    )
    [call] = await rows(services, CallBooking, reader_id=reader.id)

    await staff.press_data(ra.pause(reader.id))
    [shown] = await staff.press("Yes, pause all calls")
    assert shown.text.startswith("Done: Albert's calls are paused.")
    [shown] = await staff.press("Start calls again")
    assert shown.text.startswith("Albert's calls can start again.")
    trail = [
        (a.staff_telegram_id, a.action, a.detail)
        for a in await rows(services, StaffAction)
        if a.detail.startswith("reader ")  # (not the fixtures' approving of volunteers)
    ]
    assert sorted(trail) == sorted(
        [
            (STAFF_ID, "register reader", f"reader {reader.id}"),
            (STAFF_ID, "book call", f"reader {reader.id}: call {call.id}"),
            (STAFF_ID, "pause calls", f"reader {reader.id}"),
            (STAFF_ID, "resume calls", f"reader {reader.id}"),
        ]
    ), "every staff action for the reader is in the audit trail"


async def test_only_staff_register_without_a_contact(people, services):
    margaret = await resident(people, 411, "Margaret")
    async with nothing_changes(services):
        shown = kind(await margaret.press_data(ra.STAFF_REGISTER))
    assert shown.text.startswith("Sorry, that's only for library staff.")


# bad input -------------------------------------------------------------------------------------


async def test_someone_elses_reader_or_call_changes_nothing(people, services, edna):
    bob = await resident(people, 420, "Bob")
    bob_id = (await services.people.by_telegram(420)).id
    mine = await services.readers.register(
        first_name="Bert", phone=MY_PHONE, interests=[], needs="", contact_person_id=bob_id
    )
    reader, call = edna["reader"], edna["first"]
    slot = _local(services, (await rows(services, CallBooking, id=call))[0])
    forged = [
        ra.reader(reader),
        ra.book(reader),
        ra.day(reader, slot.date()),
        ra.how_often(reader, slot),
        ra.book_once(reader, slot),
        ra.book_weekly(reader, slot),
        ra.next_calls(reader),
        ra.cancel_call(reader, call),
        ra.confirm_cancel(reader, call),
        ra.pause(reader),
        ra.confirm_pause(reader),
        ra.resume(reader),
        ra.different_volunteer(reader),
        ra.confirm_different_volunteer(reader),
        # Bob's own reader with Edna's call, and readers that don't exist.
        ra.cancel_call(mine.id, call),
        ra.confirm_cancel(mine.id, call),
        ra.confirm_pause(999_999_999),
        ra.book(0),
    ]
    async with nothing_changes(services):
        for data in forged:
            replies = await bob.press_data(data)
            kind(replies)
            assert replies[0].text.startswith(CANT_FIND), data
            assert "Edna" not in "\n".join(shown.text for shown in replies), data


async def test_garbled_buttons_change_nothing(people, services, edna):
    ruth = edna["ruth"]
    reader = edna["reader"]
    garbled = [
        "rf:zz",
        "rf:k",
        "rf:k:",
        "rf:k:abc",
        f"rf:k:{reader}:1",
        "rf:k:1234567890",
        "rf:k:１",
        "rf:k:-1",
        f"rf:d:{reader}:20261399",
        f"rf:d:{reader}:2026121",
        f"rf:t:{reader}:202612012599",
        f"rf:y:{reader}",
        "rf:n:q",
        "rf:i:",
        "rf:f:x",
        "rf:c:maybe",
        "rf:q:z",
        "rf:" + "9" * 70,
    ]
    async with nothing_changes(services):
        for data in garbled:
            shown = kind(await ruth.press_data(data))
            assert shown.text.startswith(EXPIRED), data


async def test_form_buttons_without_a_form_change_nothing(people, services, edna):
    ruth = edna["ruth"]
    async with nothing_changes(services):
        for data in (
            ra.FOR_ME,
            ra.MY_NAME,
            ra.interest("poetry"),
            ra.INTERESTS_DONE,
            ra.need("h"),
            ra.back_to("phone"),
            ra.CONSENT_YES,
        ):
            replies = await ruth.press_data(data)
            kind(replies)
            assert replies[0].text.startswith("Sorry, that form has closed."), data


async def test_bad_answers_at_every_step_change_nothing(people, services):
    ruth = await resident(people, 421, "Ruth")
    await ruth.send("/readingfriends")
    await ruth.press("Register for calls")

    async def refused(text: str, expected: str) -> None:
        async with nothing_changes(services):
            shown = kind(await ruth.send(text))
        assert shown.text.startswith(expected), (text[:40], shown.text)

    # who: buttons only
    await refused("my mum", BUTTONS_PLEASE)
    await ruth.press("Someone I care for or refer")
    # name
    await refused(EDNA_PHONE, "Please type just the first name, in letters")
    await refused("E" * 5000, "That's a bit long for a first name.")
    await refused("   ", "Please type a first name.")
    await refused("\u200f\u2066", "Please type a first name.")
    await ruth.send("Edna")
    # phone
    await refused("Edna's number", BAD_NUMBER)
    await refused("0" * 5000, BAD_NUMBER)
    await refused("+33 1 23 45 67 89", BAD_NUMBER)
    await ruth.send(EDNA_PHONE)
    # interests: buttons only, and a made-up interest
    await refused("poetry", BUTTONS_PLEASE)
    async with nothing_changes(services):
        shown = kind(await ruth.press_data(ra.interest("knitting")))
    assert shown.text.startswith(EXPIRED)
    await ruth.press("Done")
    # needs
    await refused("x" * 5000, "That's a bit long")
    await refused("call her daughter on 07400 123456", "Please leave phone numbers out")
    await ruth.press("Hard of hearing")
    # consent: buttons only
    await refused("yes", BUTTONS_PLEASE)
    assert await count(services.db, Reader) == 0
    [shown] = await ruth.press("Yes, they agree")
    assert shown.text.startswith("Thank you: Edna is registered")
    assert await count(services.db, Reader) == 1


# the phone number is never kept in plain text ----------------------------------------------------


async def test_no_phone_number_in_plain_text_anywhere(people, services, sam, dispatcher, clock):
    margaret = await resident(people, 430, "Margaret")
    ruth = await resident(people, 431, "Ruth")
    await register_me(margaret)
    # Half way through a form, the number is in the form's state: sealed.
    await ruth.send("/readingfriends")
    await ruth.press("Register for calls")
    await ruth.press("Someone I care for or refer")
    await ruth.send("Edna")
    await ruth.send(EDNA_PHONE)
    [form] = await rows(services, Dialog)
    assert form.data["phone"] and EDNA_DIGITS not in str(form.data)
    assert await plain_text_anywhere(services, ALL_DIGITS) == []
    await ruth.press("Done")
    await ruth.press("No particular needs")
    await ruth.press("Yes, they agree")
    # Book, match, offer, deliver, accept: the number reaches the volunteer only then.
    await margaret.press("Book a call")
    await margaret.press("Tue 1 Dec")
    await margaret.press("10am")
    await margaret.press("Every week at this time")
    await deliver_everything(dispatcher, clock)
    assert await plain_text_anywhere(services, ALL_DIGITS) == []
    assert len(await rows(services, Reader)) == 2
    # Sam accepts: the number is shown to him then, and still never stored in plain text.
    sam_person = (await services.volunteers.get(sam)).person_id
    for offer in await rows(services, CallOffer, status="pending"):
        accepted = await services.calls.answer(sam_person, offer.id, accept=True)
        assert MY_DIGITS in "".join(ch for ch in accepted.phone if ch.isdigit())
    await deliver_everything(dispatcher, clock)
    assert await plain_text_anywhere(services, ALL_DIGITS) == []
    # An hour before the call, Sam's reminder carries the number: put in as it is sent.
    [margarets] = await rows(services, Reader, first_name="Margaret")
    confirmed = await rows(services, CallBooking, status="confirmed", reader_id=margarets.id)
    first = min(confirmed, key=lambda call: call.starts_at)
    clock.now = first.starts_at - timedelta(hours=1)
    await deliver_everything(dispatcher, clock)
    [reminder] = [s for s in people(SAM_ID, "Sam").screen() if s.text.startswith("A reminder")]
    assert reminder.text.endswith(f"Their number is {MY_PHONE}.")
    assert await plain_text_anywhere(services, ALL_DIGITS) == []
