"""Bad input: whatever a person types, taps, forges or sends, they get a kind reply and nothing
in the database changes (unless the input was in fact a valid answer).

Each test is a short conversation through the real Application and the local Bot API stand-in.
`nothing_changes` snapshots every row a resident can change before and after; the `app` fixture
fails any test in which a handler crashed (logged an ERROR).
"""

from __future__ import annotations

import itertools
import time
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import update

from bot.db.models import Booking, LibrarySession, Person
from bot.telegram.local_api import Shown
from bot.telegram.local_chat import LocalUser
from tests.world import count, snapshot

PHONE = "0344 800 8020"
MENU = [
    "Find a session",
    "My bookings",
    "Reading Friends",
    "My library and settings",
    "Help",
    "Volunteer",
]
AREAS = ["Breckland", "Norwich"]
NOT_UNDERSTOOD = "Sorry, I didn't understand that."
NO_SUCH_LIBRARY = "Sorry, I couldn't find a library by that name."
EXPIRED = "Sorry, that button no longer works."
NO_SUCH_BOOKING = "Sorry, I can't find that booking."
NOT_RUNNING = "Sorry, that session isn't running any more."
CRASHED = "something went wrong"

# Bob's booking, which nobody else may see: its activity and its private join link.
BOBS_ACTIVITY = "Colour Me Calm"
BOBS_LINK = "secret-room"

_message_ids = itertools.count(20_000_000)


# ---------------------------------------------------------------------------------------------
# Helpers: getting people into place, and what every reply to bad input must look like
# ---------------------------------------------------------------------------------------------


@asynccontextmanager
async def nothing_changes(services: Any) -> AsyncIterator[None]:
    """The database is exactly the same after the block as before it."""
    before = await snapshot(services.db)
    yield
    assert await snapshot(services.db) == before, "bad input changed the database"


def kind(replies: list[Shown]) -> Shown:
    """At least one non-empty reply, none of them the crash apology; the last one shown."""
    assert replies, "the person got no reply at all"
    for shown in replies:
        assert shown.text.strip()
        assert CRASHED not in shown.text, "a handler crashed"
    return replies[-1]


def assert_menu(shown: Shown) -> None:
    assert shown.labels() == MENU


async def signed_up(people: Any, user_id: int, name: str = "Margaret") -> LocalUser:
    """Someone who has agreed, chosen Dereham Library and said they like sessions in person."""
    person = people(user_id, name)
    await person.send("/start")
    await person.press("Yes, that's fine")
    await person.press("Breckland")
    await person.press("Dereham Library")
    await person.press("In person")
    return person


async def open_session(person: LocalUser, activity: str, where: str) -> Shown:
    """/sessions, then the activity, anywhere (or online), any day, and open the session."""
    await person.send("/sessions")
    await person.press(activity)
    await person.press("Online" if where == "Online" else "Anywhere in Norfolk")
    [listing] = await person.press("Any day")
    label = next(label for label in listing.labels() if f"· {activity} · {where}" in label)
    [details] = await person.press(label)
    return details


async def book(person: LocalUser, activity: str, where: str) -> int:
    """Book a place through the menus, as a person would; the booking's id."""
    await open_session(person, activity, where)
    [booked] = await person.press("Book a place")
    assert "You're booked in" in booked.text
    [mine] = await person.press("My bookings")
    return int(dict(mine.all_buttons())["Cancel 1"].removeprefix("cx:"))


def message_from(person: LocalUser, chat: dict[str, Any], **content: Any) -> dict[str, Any]:
    return {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": person.user,
        **content,
    }


async def say_in_group(person: LocalUser, group_id: int, **content: Any) -> list[Shown]:
    """Post in a group chat the bot is in; everything the bot then said in that group."""
    before = len(person.api.chat(group_id))
    group = {"id": group_id, "type": "group", "title": "Dereham Knitters"}
    message = message_from(person, group, **content)
    text = content.get("text", "")
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    await person.deliver({"message": message})
    return person.api.chat(group_id)[before:]


# ---------------------------------------------------------------------------------------------
# 1. Free text where a button was expected
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["yes", "ok then", "what is this for?"])
async def test_text_at_the_consent_question_keeps_nothing(world, people, services, typed):
    margaret = people(201)
    [question] = await margaret.send("/start")
    assert "Is that OK?" in question.text

    async with nothing_changes(services):
        shown = kind(await margaret.send(typed))
    assert shown.text.startswith(NOT_UNDERSTOOD)
    assert PHONE in shown.text
    assert_menu(shown)
    assert await count(services.db, Person) == 0


async def test_text_at_the_library_question_asks_again(world, people, services):
    margaret = people(202)
    await margaret.send("/start")
    [question] = await margaret.press("Yes, that's fine")
    assert "Which library is nearest to you?" in question.text

    async with nothing_changes(services):
        shown = kind(await margaret.send("the one by the church"))
    assert shown.text.startswith(NO_SUCH_LIBRARY)
    assert "Which library is nearest to you?" in shown.text
    assert set(AREAS) <= set(shown.labels())
    assert "Skip this" in shown.labels()


async def test_text_at_the_list_of_libraries_in_an_area_asks_again(world, people, services):
    margaret = people(203)
    await margaret.send("/start")
    await margaret.press("Yes, that's fine")
    [libraries] = await margaret.press("Breckland")
    assert libraries.labels()[0] == "Dereham Library"

    async with nothing_changes(services):
        shown = kind(await margaret.send("the one by the church"))
    assert shown.text.startswith(NO_SUCH_LIBRARY)
    assert set(AREAS) <= set(shown.labels())


async def test_the_cancel_button_under_the_location_request_stops_the_question(
    world, people, services
):
    margaret = people(204)
    await margaret.send("/start")
    await margaret.press("Yes, that's fine")
    [asked] = await margaret.press("Use my location")
    assert ["Cancel"] in [[b["text"] for b in row] for row in asked.reply_keyboard]

    replies = await margaret.send("Cancel")
    menu = kind(replies)
    assert [shown.text for shown in replies] == [
        "OK, I've stopped that.",
        "What would you like to do?",
    ]
    assert_menu(menu)
    assert (await services.people.by_telegram(204)).awaiting is None


async def test_text_at_the_preference_question_shows_the_menu(world, people, services):
    margaret = people(205)
    await margaret.send("/start")
    await margaret.press("Yes, that's fine")
    await margaret.press("Breckland")
    [question] = await margaret.press("Dereham Library")
    assert "in person, online, or both?" in question.text

    async with nothing_changes(services):
        shown = kind(await margaret.send("whatever suits"))
    assert shown.text.startswith(NOT_UNDERSTOOD)
    assert_menu(shown)


async def test_after_skipping_the_library_typed_words_are_not_taken_for_a_town(
    world, people, services
):
    margaret = people(206)
    await margaret.send("/start")
    await margaret.press("Yes, that's fine")
    await margaret.press("Skip this")

    async with nothing_changes(services):
        shown = kind(await margaret.send("whatever suits"))
    assert NO_SUCH_LIBRARY not in shown.text
    assert shown.text.startswith(NOT_UNDERSTOOD)

    await margaret.press("Both")
    shown = kind(await margaret.send("knitting please"))
    assert (
        shown.text == "Where would you like to go? You can also type the name of a town or library."
    )


async def test_text_at_the_kind_of_session_question(world, people, services):
    margaret = await signed_up(people, 207)
    [question] = await margaret.send("/sessions")
    assert question.text == "What kind of session are you looking for?"

    async with nothing_changes(services):
        shown = kind(await margaret.send("something fun"))
    assert shown.text.startswith(NOT_UNDERSTOOD)
    assert_menu(shown)


async def test_gibberish_at_the_place_question(world, people, services):
    margaret = await signed_up(people, 208)
    await margaret.send("/sessions")
    [question] = await margaret.press("Just a Cuppa")
    assert question.text.startswith("Where would you like to go?")

    async with nothing_changes(services):
        shown = kind(await margaret.send("somewhere nice and warm"))
    assert shown.text.startswith(NOT_UNDERSTOOD)
    assert_menu(shown)


async def test_a_town_typed_at_the_place_question_is_an_answer(world, people, services):
    """Not bad input: the question says a town may be typed, and the search carries on."""
    margaret = await signed_up(people, 209)
    await margaret.send("/sessions")
    await margaret.press("Just a Cuppa")

    [shown] = await margaret.send("Dereham")
    assert shown.text == "When would you like to go?"
    assert "Any day" in shown.labels()


async def test_text_at_the_day_question(world, people, services):
    margaret = await signed_up(people, 210)
    await margaret.send("/sessions")
    await margaret.press("Just a Cuppa")
    [question] = await margaret.press("Anywhere in Norfolk")
    assert question.text == "When would you like to go?"

    async with nothing_changes(services):
        shown = kind(await margaret.send("tuesday-ish"))
    assert shown.text.startswith(NOT_UNDERSTOOD)
    assert_menu(shown)


async def test_text_on_a_sessions_details_does_not_book_it(world, people, services):
    margaret = await signed_up(people, 211)
    details = await open_session(margaret, "Just a Cuppa", "Dereham")
    assert "Book a place" in details.labels()

    async with nothing_changes(services):
        shown = kind(await margaret.send("yes please"))
    assert shown.text.startswith(NOT_UNDERSTOOD)
    assert_menu(shown)


async def test_text_at_the_cancel_confirmation_keeps_the_booking(world, people, services):
    margaret = await signed_up(people, 212)
    await book(margaret, "Just a Cuppa", "Dereham")
    [question] = await margaret.press("Cancel 1")
    assert question.text.startswith("Cancel your place at Just a Cuppa")

    async with nothing_changes(services):
        shown = kind(await margaret.send("yes"))
    assert shown.text.startswith(NOT_UNDERSTOOD)
    assert_menu(shown)
    assert await count(services.db, Booking, status="booked") == 1


# ---------------------------------------------------------------------------------------------
# 2. Stale or forged button data
# ---------------------------------------------------------------------------------------------


@pytest.fixture
async def bob_and_margaret(world, people):  # type: ignore[no-untyped-def]
    """Bob has booked an online session (with a private link); Margaret has her own booking."""
    bob = await signed_up(people, 301, "Bob")
    bobs_booking = await book(bob, BOBS_ACTIVITY, "Online")
    margaret = await signed_up(people, 302, "Margaret")
    await book(margaret, "Just a Cuppa", "Dereham")
    return bob, bobs_booking, margaret


def reveals_nothing_of_bobs(replies: list[Shown]) -> None:
    for shown in replies:
        assert BOBS_ACTIVITY not in shown.text
        assert BOBS_LINK not in shown.text
        assert shown.document is None


@pytest.mark.parametrize("forged", ["cx", "cy", "ic"])
async def test_someone_elses_booking_cannot_be_touched(bob_and_margaret, services, forged):
    bob, bobs_booking, margaret = bob_and_margaret

    async with nothing_changes(services):
        replies = await margaret.press_data(f"{forged}:{bobs_booking}")
    kind(replies)
    reveals_nothing_of_bobs(replies)
    sorry, own = replies
    assert sorry.text.startswith(NO_SUCH_BOOKING)
    assert own.text.startswith("Your bookings:")
    assert "Just a Cuppa" in own.text

    [still_his] = await bob.press("My bookings")
    assert BOBS_ACTIVITY in still_his.text


async def test_cancelling_someone_elses_booking_step_by_step(bob_and_margaret, services):
    """The whole forged conversation: ask to cancel, then confirm, as if the buttons were real."""
    bob, bobs_booking, margaret = bob_and_margaret

    async with nothing_changes(services):
        asked = await margaret.press_data(f"cx:{bobs_booking}")
        confirmed = await margaret.press_data(f"cy:{bobs_booking}")
    for replies in (asked, confirmed):
        reveals_nothing_of_bobs(replies)
        assert kind(replies).text.startswith("Your bookings:")
        assert replies[0].text.startswith(NO_SUCH_BOOKING)
    assert await count(services.db, Booking, id=bobs_booking, status="booked") == 1
    [still_his] = await bob.press("My bookings")
    assert BOBS_ACTIVITY in still_his.text


@pytest.mark.parametrize("forged", ["cx", "cy", "ic"])
async def test_a_booking_that_does_not_exist(bob_and_margaret, services, forged):
    _, _, margaret = bob_and_margaret

    async with nothing_changes(services):
        replies = await margaret.press_data(f"{forged}:999999")
    kind(replies)
    reveals_nothing_of_bobs(replies)
    assert replies[0].text.startswith(NO_SUCH_BOOKING)


async def test_booking_a_session_that_does_not_exist(world, people, services):
    margaret = await signed_up(people, 303)

    async with nothing_changes(services):
        shown = kind(await margaret.press_data("bk:999999"))
    assert shown.text.startswith(NOT_RUNNING)
    assert PHONE in shown.text
    assert shown.labels() == ["Find another session", "Menu"]


async def test_booking_a_session_cancelled_since_it_was_shown(world, people, services):
    margaret = await signed_up(people, 304)
    details = await open_session(margaret, "Just a Cuppa", "Dereham")
    assert "Book a place" in details.labels()
    async with services.db.transaction() as session:
        await session.execute(
            update(LibrarySession)
            .where(LibrarySession.id == world.sessions["dereham_cuppa"])
            .values(status="cancelled")
        )

    async with nothing_changes(services):
        shown = kind(await margaret.press("Book a place"))
    assert shown.text.startswith(NOT_RUNNING)
    assert shown.labels() == ["Find another session", "Menu"]


async def test_booking_a_session_that_has_started_since_it_was_shown(
    world, people, services, clock
):
    margaret = await signed_up(people, 305)
    details = await open_session(margaret, "Knit and Natter", "Dereham")  # today at 15:00
    assert "Book a place" in details.labels()
    clock.advance(7 * 3600)

    async with nothing_changes(services):
        shown = kind(await margaret.press("Book a place"))
    assert shown.text.startswith("Sorry, that session has already started")
    assert shown.labels() == ["Find another session", "Menu"]


async def test_cancelling_after_the_session_has_started(world, people, services, clock):
    margaret = await signed_up(people, 306)
    await book(margaret, "Knit and Natter", "Dereham")  # today at 15:00
    await margaret.press("Cancel 1")
    clock.advance(7 * 3600)

    async with nothing_changes(services):
        shown = kind(await margaret.press("Yes, cancel it"))
    assert shown.text == "That session has already started, so it can't be cancelled now."
    assert await count(services.db, Booking, status="booked") == 1


async def refused_without_a_trace(bob_and_margaret, services, data: str, expected: str) -> None:
    """Margaret sends forged button data: a kind reply, nothing changed, nothing of Bob's."""
    _, _, margaret = bob_and_margaret

    async with nothing_changes(services):
        replies = await margaret.press_data(data)
    kind(replies)
    reveals_nothing_of_bobs(replies)
    assert replies[0].text.startswith(expected)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("zz", EXPIRED),
        ("ss:abc", "What kind of session are you looking for?"),
        ("sv:1:9:q:x:0", EXPIRED),
        ("sv:abc:_:_:_:0", EXPIRED),
        ("on:l:999999", EXPIRED),
        ("on:a:99", EXPIRED),
        ("on:a:-1", EXPIRED),
        ("on:p:x", EXPIRED),
        ("bk:-1", EXPIRED),
        ("bk:" + "9" * 40, EXPIRED),
        ("cx:" + "9" * 40, NO_SUCH_BOOKING),
        ("x" * 64, EXPIRED),
        ("é" * 32, EXPIRED),  # 64 bytes, 32 characters
        ("🫖☕", EXPIRED),
        ("bk:🫖", EXPIRED),
        ("cx:☕", NO_SUCH_BOOKING),
        ("ss:0:l1\u202e:a:0", "What kind of session are you looking for?"),
    ],
)
async def test_garbled_button_data(bob_and_margaret, services, data, expected):
    await refused_without_a_trace(bob_and_margaret, services, data, expected)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("bk:²", EXPIRED),  # str.isdigit() says yes, int() raises
        ("cx:²", NO_SUCH_BOOKING),
        ("cy:²", NO_SUCH_BOOKING),
        ("ic:²", NO_SUCH_BOOKING),
        ("sv:²:0:a:a:0", EXPIRED),
        ("on:a:²", EXPIRED),
        ("on:l:²", EXPIRED),
        ("bk:١", EXPIRED),  # Arabic-Indic "1": int() reads it, but the bot never makes it
        ("on:l:" + "9" * 30, EXPIRED),  # too long for any database integer
        ("sv:" + "9" * 30 + ":0:a:a:0", EXPIRED),
    ],
)
async def test_unicode_digits_and_overlong_numbers_in_button_data(
    bob_and_margaret, services, data, expected
):
    await refused_without_a_trace(bob_and_margaret, services, data, expected)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("bk:999999999999", EXPIRED),
        ("on:y:999999999999", EXPIRED),
        ("cx:999999999999", NO_SUCH_BOOKING),
        ("cy:999999999999", NO_SUCH_BOOKING),
        ("ic:999999999999", NO_SUCH_BOOKING),
        ("on:l:9999999999", EXPIRED),
        ("sv:9999999999:0:a:a:0", EXPIRED),
    ],
)
async def test_ids_too_big_for_a_database_integer(bob_and_margaret, services, data, expected):
    await refused_without_a_trace(bob_and_margaret, services, data, expected)


# ---------------------------------------------------------------------------------------------
# 3. Oversized and odd text, other kinds of message, group chats
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("na" * 2048, NOT_UNDERSTOOD),  # 4096 characters, Telegram's limit
        ("👩\u200d👩\u200d👧\u200d👦", NOT_UNDERSTOOD),  # a family joined by zero-width joiners
        ("\u200b\u200c\u200d\u2060", NOT_UNDERSTOOD),  # nothing but invisible characters
        ("\u202egnittink\u202c", NOT_UNDERSTOOD),  # right-to-left override
        ("Z\u0336\u0321a\u0337\u0322l\u0338g\u0335o\u0334", NOT_UNDERSTOOD),  # combining marks
        ("☕🫖🍪", NOT_UNDERSTOOD),  # emoji only
        ("   \n\t  ", NOT_UNDERSTOOD),  # whitespace only
        ("/", "Sorry, I don't know that command."),
        ("/unknowncommand", "Sorry, I don't know that command."),
        ("/sessions" + "x" * 200, "Sorry, I don't know that command."),
    ],
)
async def test_odd_text(world, people, services, typed, expected):
    margaret = await signed_up(people, 401)

    async with nothing_changes(services):
        shown = kind(await margaret.send(typed))
    assert shown.text.startswith(expected)
    assert_menu(shown)


async def test_odd_text_at_the_library_question(world, people, services):
    margaret = people(402)
    await margaret.send("/start")
    await margaret.press("Yes, that's fine")

    for typed in ["na" * 2048, "\u202e", "☕", "   "]:
        async with nothing_changes(services):
            kind(await margaret.send(typed))
    assert (await services.people.by_telegram(402)).awaiting == "home"


STICKER = {
    "file_id": "CAACAgIAAxkBAAIBQ2Zk",
    "file_unique_id": "AgADqwADwZxgDA",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
    "emoji": "☕",
}
PHOTO = [{"file_id": "AgACAgQAAxkBAAIB", "file_unique_id": "AQADb7wxG", "width": 90, "height": 67}]
VOICE = {"file_id": "AwACAgQAAxkBAAIB", "file_unique_id": "AgADvQwAA", "duration": 3}
CONTACT = {"phone_number": "+441603774774", "first_name": "Norwich Library"}


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": STICKER},
        {"photo": PHOTO, "caption": "my knitting"},
        {"voice": VOICE},
        {"contact": CONTACT},
    ],
    ids=["sticker", "photo", "voice", "contact"],
)
async def test_messages_that_are_not_text(world, people, services, content):
    margaret = await signed_up(people, 403)

    async with nothing_changes(services):
        shown = kind(await margaret.send_other(**content))
    assert shown.text.startswith("Sorry, I can only read typed messages and buttons.")
    assert_menu(shown)


async def test_editing_an_earlier_message_does_no_harm(world, people, services):
    margaret = await signed_up(people, 407)
    zalgo = "Z\u0336a\u0337l\u0338g\u0335o"
    edited = message_from(margaret, margaret.chat, text=zalgo, edit_date=1)

    async with nothing_changes(services):
        replies = await margaret.deliver({"edited_message": edited})
    assert all(CRASHED not in shown.text for shown in replies)


async def test_a_sticker_before_consenting_keeps_nothing(world, people, services):
    margaret = people(404)
    async with nothing_changes(services):
        kind(await margaret.send_other(sticker=STICKER))
    assert await count(services.db, Person) == 0


@pytest.mark.parametrize(
    "text", ["hello everyone", "/start", "/sessions@norfolk_cuppa_bot", "/mybookings"]
)
async def test_a_group_chat_is_asked_to_message_directly(world, people, services, text):
    margaret = await signed_up(people, 405)
    await book(margaret, "Just a Cuppa", "Dereham")

    async with nothing_changes(services):
        said = await say_in_group(margaret, -4000000001, text=text)
    [shown] = said
    assert shown.text == "Please message me directly, so your bookings stay private."
    assert shown.buttons == []
    assert "Just a Cuppa" not in shown.text


async def test_a_sticker_in_a_group_chat_does_no_harm(world, people, services):
    margaret = people(406)
    async with nothing_changes(services):
        said = await say_in_group(margaret, -4000000002, sticker=STICKER)
    assert all(CRASHED not in shown.text for shown in said)
    assert await count(services.db, Person) == 0


# ---------------------------------------------------------------------------------------------
# 4. Odd first names
# ---------------------------------------------------------------------------------------------


def clean(name: str) -> None:
    assert name == name.strip()
    assert all(c.isprintable() for c in name)
    assert not any(unicodedata.category(c) == "Cf" for c in name)  # no invisible controls
    assert len(name) <= 64


async def test_a_name_with_emoji_and_a_right_to_left_override(world, people, services):
    zoe = people(501, "Zoë 👵🏽\u202e")
    await zoe.send("/start")
    await zoe.press("Yes, that's fine")

    person = await services.people.by_telegram(501)
    clean(person.first_name)
    assert person.first_name == "Zoë 👵🏽"

    [shown] = await zoe.send("/start")
    assert shown.text == "Hello, Zoë 👵🏽. What would you like to do?"


async def test_a_very_long_name_is_cut_short(world, people, services):
    name = "Bartholomew\u200d " * 30 + "👩\u200d👩\u200d👧" * 30
    bart = people(502, name)
    await bart.send("/start")
    await bart.press("Yes, that's fine")

    person = await services.people.by_telegram(502)
    clean(person.first_name)
    assert person.first_name.startswith("Bartholomew Bartholomew")

    [shown] = await bart.send("/start")
    assert shown.text == f"Hello, {person.first_name}. What would you like to do?"


@pytest.mark.parametrize("name", ["\u202e\u200b", "   ", "\u0000\u0007"])
async def test_a_name_of_nothing_visible_is_not_shown(world, people, services, name):
    ghost = people(503, name)
    await ghost.send("/start")
    await ghost.press("Yes, that's fine")

    assert (await services.people.by_telegram(503)).first_name == ""
    [shown] = await ghost.send("/start")
    assert shown.text == "Hello. What would you like to do?"
