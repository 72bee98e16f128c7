"""Staff broadcasts: choose the audience, type the message, preview with the count, send, and a
delivery report that Refresh brings up to date; residents can neither start one nor forge one.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from telegram.error import NetworkError

from bot.db.models import Broadcast, Dialog, OutboxMessage, Person
from bot.services.broadcasts import TEXT_LIMIT
from bot.telegram.local_api import ApiFailure
from tests.conftest import STAFF_ID
from tests.world import book, count, person_id, resident, snapshot

AUDIENCES = [
    "People booked on a session",
    "Followers of an activity",
    "Followers of a library",
    "Everyone who asked for news",
    "Back",
    "Menu",
]
REFUSED = "Sorry, that's only for library staff."
EXPIRED = "Sorry, that button no longer works."
MESSAGE = "The library will open at 10:30 tomorrow because of the snow. Stay warm!"
BODY = f"A message from Norfolk Libraries:\n\n{MESSAGE}"


@pytest.fixture
def staff(people):  # type: ignore[no-untyped-def]
    return people(STAFF_ID, "Sue")


async def wants_news(person) -> None:
    await person.send("/start")
    await person.press("My library and settings")
    await person.press("News: turn on")


async def write_and_send(staff, message: str = MESSAGE):
    """Type the message, check the preview, send it: the report as first shown."""
    body, preview = await staff.send(message)
    assert body.text == f"A message from Norfolk Libraries:\n\n{message}"
    assert body.labels() == []
    assert preview.labels() == ["Send it", "Change the message", "Cancel"]
    [report] = await staff.press("Send it")
    return preview, report


def figures(report) -> dict[str, int]:
    wanted = {
        "Sent": "sent",
        "Failed": "failed",
        "Can't be reached (they've blocked the bot)": "unreachable",
        "Still waiting to go": "waiting",
    }
    found = {}
    for line in report.text.splitlines():
        label, _, number = line.rpartition(": ")
        if label in wanted:
            found[wanted[label]] = int(number)
    assert len(found) == 4, report.text
    return found


async def broadcast_outbox(services) -> list[tuple[int, str, str]]:
    async with services.db.transaction() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.status, OutboxMessage.text)
            .where(OutboxMessage.kind == "broadcast")
            .order_by(OutboxMessage.chat_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Each audience
# ---------------------------------------------------------------------------------------------


async def test_people_booked_on_a_session(world, people, services, staff, dispatcher):
    ann = await resident(people, 601, "Ann")
    bob = await resident(people, 602, "Bob")
    cat = await resident(people, 603, "Cat")  # booked on another session
    for person in (ann, bob):
        await book(person, world.sessions["dereham_cuppa"])
    await book(cat, world.sessions["dereham_knit"])

    [shown] = await staff.send("/broadcast")
    assert shown.text == "Who would you like to send a message to?"
    assert shown.labels() == AUDIENCES
    [staff_menu] = await staff.press("Back")  # the staff menu, which leads back here
    assert "Broadcast" in staff_menu.labels()
    [shown] = await staff.press("Broadcast")
    assert shown.labels() == AUDIENCES
    [shown] = await staff.press("People booked on a session")
    assert shown.text == "Which session? First, where is it?"
    assert shown.labels() == ["Breckland", "Norwich", "Online", "Back", "Menu"]
    [shown] = await staff.press("Breckland")
    assert shown.labels() == ["Dereham Library", "Back", "Menu"]
    [shown] = await staff.press("Dereham Library")
    assert shown.text.startswith("Upcoming sessions at Dereham Library (page 1 of 1).")
    assert shown.labels() == [
        "Tue 24 Nov, 3pm · Knit and Natter · Dereham (1 booked)",
        "Wed 25 Nov, 10am · Just a Cuppa · Dereham (2 booked)",
        "Back",
        "Menu",
    ]
    [shown] = await staff.press("Wed 25 Nov, 10am · Just a Cuppa · Dereham (2 booked)")
    assert shown.text == (
        "Your message will go to people booked on Just a Cuppa, Wed 25 Nov, 10am: 2 people."
        "\n\nPlease type your message."
    )
    assert shown.labels() == ["Back", "Menu"]

    preview, report = await write_and_send(staff)
    assert preview.text == (
        "Above is exactly what people will see. This will go to 2 people "
        "(people booked on Just a Cuppa, Wed 25 Nov, 10am)."
    )
    assert report.text.startswith(
        "Sent. Your message to people booked on Just a Cuppa, Wed 25 Nov, 10am: 2 people."
    )
    assert figures(report) == {"sent": 0, "failed": 0, "unreachable": 0, "waiting": 2}
    assert report.labels() == ["Refresh", "Menu"]
    assert await count(services.db, Dialog) == 0

    assert (await dispatcher.sweep()).sent == 2
    for person in (ann, bob):
        assert person.last.text == BODY
    assert cat.last.text != BODY
    [report] = await staff.press("Refresh")
    assert figures(report) == {"sent": 2, "failed": 0, "unreachable": 0, "waiting": 0}


async def test_online_sessions_and_paging(world, people, services, staff, clock):
    from datetime import date, time

    from bot.services.staff_sessions import SessionPlan

    for day in range(1, 6):
        plan = SessionPlan(
            activity_id=world.activities["Colour Me Calm"],
            library_id=None,
            day=date(2026, 12, day),
            start=time(14, 0),
            join_link="https://meet.example.org/colour",
        )
        await services.admin.create(STAFF_ID, plan)
    await staff.send("/broadcast")
    await staff.press("People booked on a session")
    [shown] = await staff.press("Online")
    assert shown.text.startswith("Upcoming sessions online (page 1 of 2).")
    assert len(shown.labels()) == 5 + 3  # five sessions, Later, Back and Menu
    assert shown.labels()[-3:] == ["Later ▶", "Back", "Menu"]
    [shown] = await staff.press("Later ▶")
    assert shown.text.startswith("Upcoming sessions online (page 2 of 2).")
    assert shown.labels() == [
        "Fri 4 Dec, 2pm · Colour Me Calm · Online (0 booked)",
        "Sat 5 Dec, 2pm · Colour Me Calm · Online (0 booked)",
        "◀ Earlier",
        "Back",
        "Menu",
    ]
    [shown] = await staff.press("Back")
    assert shown.text == "Which session? First, where is it?"


async def test_followers_of_an_activity(world, people, services, staff, dispatcher):
    followers = [await resident(people, 610 + n, f"F{n}") for n in range(3)]
    other = await resident(people, 613, "Other")
    for person in followers:
        await services.follows.follow(
            await person_id(services, person.user_id), activity_id=world.activities["Just a Cuppa"]
        )
    await services.follows.follow(
        await person_id(services, other.user_id), activity_id=world.activities["Knit and Natter"]
    )
    await staff.send("/broadcast")
    [shown] = await staff.press("Followers of an activity")
    assert shown.labels() == ["Just a Cuppa", "Knit and Natter", "Colour Me Calm", "Back", "Menu"]
    [shown] = await staff.press("Just a Cuppa")
    assert shown.text.startswith("Your message will go to followers of Just a Cuppa: 3 people.")
    preview, report = await write_and_send(staff)
    assert "This will go to 3 people (followers of Just a Cuppa)." in preview.text
    assert figures(report)["waiting"] == 3
    assert (await dispatcher.sweep()).sent == 3
    assert all(person.last.text == BODY for person in followers)
    assert other.last.text != BODY


async def test_followers_of_a_library(world, people, services, staff, dispatcher):
    follower = await resident(people, 620, "Fay")
    other = await resident(people, 621, "Other")
    await services.follows.follow(
        await person_id(services, follower.user_id), library_id=world.libraries["Mile"]
    )
    await services.follows.follow(
        await person_id(services, other.user_id), library_id=world.libraries["Dereham"]
    )
    await staff.send("/broadcast")
    [shown] = await staff.press("Followers of a library")
    assert shown.labels() == ["Breckland", "Norwich", "Back", "Menu"]
    [shown] = await staff.press("Norwich")
    assert shown.labels() == ["Mile Cross Library", "Norwich Millennium Library", "Back", "Menu"]
    [shown] = await staff.press("Mile Cross Library")
    assert shown.text.startswith(
        "Your message will go to followers of Mile Cross Library: 1 person."
    )
    preview, _ = await write_and_send(staff)
    assert "This will go to 1 person (followers of Mile Cross Library)." in preview.text
    assert (await dispatcher.sweep()).sent == 1
    assert follower.last.text == BODY
    assert other.last.text != BODY


async def test_everyone_who_asked_for_news(world, people, services, staff, dispatcher):
    keen = [await resident(people, 630 + n, f"K{n}") for n in range(2)]
    quiet = await resident(people, 632, "Quiet")
    for person in keen:
        await wants_news(person)
    await staff.send("/broadcast")
    [shown] = await staff.press("Everyone who asked for news")
    assert shown.text.startswith("Your message will go to everyone who asked for news: 2 people.")
    await write_and_send(staff)
    assert (await dispatcher.sweep()).sent == 2
    assert all(person.last.text == BODY for person in keen)
    assert quiet.last.text != BODY


# ---------------------------------------------------------------------------------------------
# The delivery report
# ---------------------------------------------------------------------------------------------


async def test_report_counts_sent_failed_unreachable_and_waiting(
    world, people, services, staff, dispatcher, api, clock
):
    names = ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay"]
    ann, bob, cat, dan, eve, fay = [
        await resident(people, 640 + n, name) for n, name in enumerate(names)
    ]
    for person in (ann, bob, cat, dan, eve, fay):
        await wants_news(person)
    # Dan blocked the bot some time ago; Cat blocks it now; Eve's message is refused for good;
    # Fay's network is down, so hers waits to be tried again.
    await services.people.mark_unreachable(dan.user_id, clock())

    def faults(method: str, params: dict):  # type: ignore[no-untyped-def,type-arg]
        chat = int(params.get("chat_id", 0))
        if method != "sendMessage":
            return None
        if chat == cat.user_id:
            return ApiFailure(403, "Forbidden: bot was blocked by the user")
        if chat == eve.user_id:
            return ApiFailure(400, "Bad Request: can't parse entities")
        if chat == fay.user_id:
            return NetworkError("connection reset")
        return None

    api.faults.append(faults)
    await staff.send("/broadcast")
    [shown] = await staff.press("Everyone who asked for news")
    assert "everyone who asked for news: 6 people" in shown.text
    preview, report = await write_and_send(staff)
    assert "This will go to 6 people" in preview.text
    assert figures(report) == {"sent": 0, "failed": 0, "unreachable": 1, "waiting": 5}

    await dispatcher.sweep()
    [report] = await staff.press("Refresh")
    assert figures(report) == {"sent": 2, "failed": 1, "unreachable": 2, "waiting": 1}
    assert ann.last.text == BODY and bob.last.text == BODY
    async with services.db.transaction() as session:
        cats = await session.scalar(select(Person).where(Person.telegram_id == cat.user_id))
        assert cats.unreachable_at is not None

    # Fay's network comes back: her message goes on the next try.
    api.faults.clear()
    clock.advance(60)
    assert (await dispatcher.sweep()).sent == 1
    assert fay.last.text == BODY
    [report] = await staff.press("Refresh")
    assert figures(report) == {"sent": 3, "failed": 1, "unreachable": 2, "waiting": 0}
    # Refresh with nothing new changes nothing and shows no error.
    assert await staff.press("Refresh") == []


# ---------------------------------------------------------------------------------------------
# Checking the message, changing it, cancelling, nobody to send to
# ---------------------------------------------------------------------------------------------


async def choose_news_audience(people, staff) -> None:
    await wants_news(await resident(people, 650, "Ann"))
    await staff.send("/broadcast")
    await staff.press("Everyone who asked for news")


async def test_empty_or_over_long_text_is_refused_kindly(world, people, services, staff):
    await choose_news_audience(people, staff)
    for blank in ("   ", "\u2003"):
        [shown] = await staff.send(blank)
        assert shown.text == "That message is empty. Please type what you'd like to send."
        assert shown.labels() == ["Back", "Menu"]
    [shown] = await staff.send("x" * (TEXT_LIMIT + 1))
    assert shown.text == (
        "Sorry, that's too long to send in one message: it has 3,501 characters and the most "
        "is 3,500. Please type a shorter message."
    )
    assert await count(services.db, Broadcast) == 0
    # The longest allowed, and a message with no letters at all, are fine.
    body, preview = await staff.send("y" * TEXT_LIMIT)
    assert body.text.endswith("y" * TEXT_LIMIT)
    await staff.press("Change the message")
    body, preview = await staff.send("👍")
    assert body.text == "A message from Norfolk Libraries:\n\n👍"
    assert "This will go to 1 person" in preview.text


async def test_change_the_message_then_send(world, people, services, staff, dispatcher):
    await choose_news_audience(people, staff)
    await staff.send("First try, with a tpyo")
    [shown] = await staff.press("Change the message")
    assert shown.text == "Please type your new message."
    assert shown.labels() == ["Back", "Menu"]
    # The old preview's Send button cannot send the draft being rewritten.
    [shown] = await staff.press_data("bc:y")
    assert shown.text.startswith("There's no message waiting to be sent")
    await write_and_send(staff, "Second try, spelt right")
    assert [text for *_, text in await broadcast_outbox(services)] == [
        "A message from Norfolk Libraries:\n\nSecond try, spelt right"
    ]
    # Send again from the same preview: it has gone already, nothing is sent twice.
    [shown] = await staff.press_data("bc:y")
    assert shown.text.startswith("There's no message waiting to be sent")
    assert await count(services.db, Broadcast) == 1
    assert await count(services.db, OutboxMessage, kind="broadcast") == 1


async def test_cancel_sends_nothing(world, people, services, staff):
    await choose_news_audience(people, staff)
    await staff.send(MESSAGE)
    [shown] = await staff.press("Cancel")
    assert shown.text == "OK, nothing has been sent. What would you like to do?"
    assert "Staff menu" in shown.labels()
    assert await count(services.db, Broadcast) == 0
    assert await count(services.db, Dialog) == 0
    # Typing afterwards is ordinary text again, not a message to send.
    [shown] = await staff.send("tea")
    assert shown.text.startswith("Where would you like to go?")
    assert await count(services.db, Broadcast) == 0


async def test_menu_while_typing_drops_the_draft(world, people, services, staff):
    await choose_news_audience(people, staff)
    [shown] = await staff.press("Menu")
    assert shown.text == "OK, nothing has been sent. What would you like to do?"
    assert await count(services.db, Dialog) == 0


async def test_nobody_to_send_to(world, people, services, staff):
    await resident(people, 660, "Ann")  # consented, follows nothing, no news
    await staff.send("/broadcast")
    await staff.press("Followers of a library")
    await staff.press("Breckland")
    [shown] = await staff.press("Dereham Library")
    assert shown.text == (
        "There's nobody to send to: no one is among followers of Dereham Library yet, "
        "so I haven't sent anything."
    )
    assert shown.labels() == ["Choose someone else", "Menu"]
    [shown] = await staff.press("Choose someone else")
    [shown] = await staff.press("Everyone who asked for news")
    assert shown.text.startswith("There's nobody to send to")
    assert await count(services.db, Broadcast) == 0
    assert await count(services.db, Dialog) == 0


async def test_audience_emptied_before_send_sends_nothing(world, people, services, staff):
    ann = await resident(people, 670, "Ann")
    await wants_news(ann)
    await staff.send("/broadcast")
    await staff.press("Everyone who asked for news")
    await staff.send(MESSAGE)
    await ann.send("/start")
    await ann.press("My library and settings")
    await ann.press("News: turn off")
    [shown] = await staff.press("Send it")
    assert shown.text.startswith("There's nobody to send to")
    assert await count(services.db, Broadcast) == 0
    assert await count(services.db, OutboxMessage, kind="broadcast") == 0


@pytest.mark.parametrize(
    "data",
    [
        "bc:t:s999",
        "bc:t:a999",
        "bc:t:l999",
        "bc:t:x1",
        "bc:t:s1234567890",
        "bc:t:",
        "bc:t:ALL",
        "bc:s:a9",
        "bc:l:a9",
        "bc:s:l999:0",
        "bc:s:l1",
        "bc:r:999",
        "bc:r:",
        "bc:q",
        "bc:t:s١",
    ],
)
async def test_stale_or_garbled_staff_buttons(world, people, services, staff, data):
    before = await snapshot(services.db)
    replies = await staff.press_data(data)
    assert replies[-1].text.startswith(EXPIRED)
    assert await snapshot(services.db) == before
    assert await count(services.db, Dialog) == 0


# ---------------------------------------------------------------------------------------------
# Residents can't
# ---------------------------------------------------------------------------------------------


async def test_residents_cannot_broadcast(world, people, services, staff):
    ann = await resident(people, 680, "Ann")
    await wants_news(ann)
    bob = await resident(people, 681, "Bob")
    await wants_news(bob)
    # Staff have a draft open: a resident's forged Send must not send it.
    await staff.send("/broadcast")
    await staff.press("Everyone who asked for news")
    await staff.send(MESSAGE)
    before = await snapshot(services.db)

    [shown] = await bob.send("/broadcast")
    assert shown.text.startswith(REFUSED)
    for data in (
        "bc",
        "bc:s",
        "bc:s:l1:0",
        "bc:t:all",
        "bc:t:s1",
        "bc:y",
        "bc:e",
        "bc:n",
        "bc:r:1",
    ):
        [shown] = await bob.press_data(data)
        assert shown.text.startswith(REFUSED), data
        assert "Staff menu" not in shown.labels()
    [shown] = await bob.send("Free cake for everyone!")
    assert "only for library staff" in shown.text or "didn't understand" in shown.text
    assert await snapshot(services.db) == before
    assert await count(services.db, Broadcast) == 0
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(Dialog.telegram_id))) == [STAFF_ID]

    # The staff member's draft is untouched and still theirs to send.
    [report] = await staff.press("Send it")
    assert figures(report)["waiting"] == 2
