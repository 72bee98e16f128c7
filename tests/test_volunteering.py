"""Volunteering with Reading Friends, as conversations: Sam signs up through the buttons, staff
approve him with the date of his checks, a reader's call is matched and offered to him, he
accepts and sees the number, declines go to the next volunteer, reminders and the "how did it
go?" prompt arrive, a worried log or two missed calls bring staff in, checks run out, holidays.

Every test also checks, across everything the stand-in was shown and every callback answer, that
the reader's phone number reached only the volunteer who accepted that call, and only from the
acceptance until the call was logged or 24 hours after its time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import actions
from bot import volunteer_actions as va
from bot.db.models import CallBooking, CallOffer, OutboxMessage, Person, Volunteer
from bot.telegram.local_api import Shown
from tests.conftest import STAFF_ID
from tests.world import rows

PHONE = "01603 774774"
PHONE_DIGITS = "1603774774"
THANKS = (
    "Thank you. Library staff will check a few things (including a DBS check) and let you know."
)
GONE = "That offer has already been taken or has expired. Thank you anyway."
REFUSAL = "Sorry, that's only for library staff."
CALL = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tue 1 Dec, 10am (GMT), a week after START
NEXT_CALL = CALL + timedelta(days=7)


# ---------------------------------------------------------------------------------------------
# Privacy: watched in every test
# ---------------------------------------------------------------------------------------------


def shows_phone(text: str) -> bool:
    """The reader's number in any format: 01603 774774, 01603774774, +44 1603 774774..."""
    return PHONE_DIGITS in re.sub(r"[\s\-().]", "", text)


@pytest.fixture(autouse=True)
async def phone_stays_private(api, clock, services):  # type: ignore[no-untyped-def]
    """Record when each message was shown; afterwards, check where the number went."""
    seen: list[tuple[datetime, Shown]] = []
    api.listeners.append(lambda shown: seen.append((clock.now, shown)))
    yield seen
    # Who may see it, and when: the accepting volunteer, from acceptance until logged or 24 h.
    allowed: list[tuple[int, datetime, datetime]] = []
    async with services.db.transaction() as session:
        found = await session.execute(
            select(CallBooking, CallOffer.answered_at, Person.telegram_id)
            .join(CallOffer, CallOffer.booking_id == CallBooking.id)
            .join(Volunteer, Volunteer.id == CallOffer.volunteer_id)
            .join(Person, Person.id == Volunteer.person_id)
            .where(CallOffer.status == "accepted")
        )
        for call, accepted_at, telegram_id in found:
            until = call.starts_at + timedelta(hours=24)
            if call.logged_at is not None:
                until = min(until, call.logged_at)
            allowed.append((telegram_id, accepted_at, until))
    for at, shown in seen:
        if shows_phone(shown.text):
            assert any(
                chat == shown.chat_id and start <= at <= until for chat, start, until in allowed
            ), f"the number reached chat {shown.chat_id} at {at}: {shown.text!r}"
    for answer in api.callback_answers:
        assert not shows_phone(str(answer)), answer


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


async def deliver(dispatcher, clock) -> int:  # type: ignore[no-untyped-def]
    """Send everything due, a couple of seconds apart (Telegram allows one message a second
    per chat, so a second message to the same chat waits for the next sweep)."""
    sent = 0
    for _ in range(10):
        clock.advance(2)
        report = await dispatcher.sweep()
        sent += report.sent
        if not report.deferred:
            break
    return sent


def ever_sent(api, chat_id: int, start: str) -> list[Shown]:  # type: ignore[no-untyped-def]
    """Every message first shown in this chat beginning so (later edits don't hide it)."""
    return [
        shown
        for shown in api.timeline
        if shown.chat_id == chat_id and not shown.edited and shown.text.startswith(start)
    ]


def messages(person, start: str) -> list[Shown]:  # type: ignore[no-untyped-def]
    return [shown for shown in person.screen() if shown.text.startswith(start)]


async def sign_up(  # type: ignore[no-untyped-def]
    people,
    user_id: int,
    name: str,
    day: str = "Tuesday",
    start: str = "10am",
    end: str = "12pm",
    calls: str = "3",
    interests: tuple[str, ...] = ("Stories",),
):
    """A new person volunteers through the buttons: consent first, then one question at a time."""
    person = people(user_id, name)
    [shown] = await person.send("/volunteer")
    assert shown.text.startswith("I'd be glad to tell you about volunteering")
    assert shown.labels() == ["Yes, that's fine", "No thanks", "Tell me more"]
    await person.press("Yes, that's fine")
    await person.press("Skip this")
    [menu] = await person.press("Both")
    assert "Volunteer" in menu.labels()
    [shown] = await person.press("Volunteer")
    assert shown.text.startswith("Reading Friends volunteers phone someone who is housebound")
    assert shown.text.endswith("Which day of the week are you free to make calls?")
    await person.press(day)
    await person.press(start)
    await person.press(end)
    await person.press("That's all")
    await person.press(calls)
    for label in interests:
        await person.press(label)
    [shown] = await person.press("Done")
    assert shown.text == THANKS
    return person


def staff_member(people):  # type: ignore[no-untyped-def]
    return people(STAFF_ID, "Pat")


async def approve(people, dispatcher, clock, name: str, checks: str = "01/06/2026"):  # type: ignore[no-untyped-def]
    """Staff tap Approve on the new-volunteer alert and type the date of the checks."""
    staff = staff_member(people)
    await deliver(dispatcher, clock)
    [alert] = messages(staff, f"New Reading Friends volunteer: {name}")
    approve_data = dict(alert.all_buttons())["Approve"]
    [shown] = await staff.press_data(approve_data or "", alert)
    assert shown.text.startswith(f"When were {name}'s checks (including the DBS check) done?")
    [shown] = await staff.send(checks)
    assert shown.text == f"Approved. I've let {name} know."
    await deliver(dispatcher, clock)
    return staff


async def reader_with_carer(services, people):  # type: ignore[no-untyped-def]
    """Edna, registered by her daughter Ruth (who uses the bot), at service level."""
    ruth = people(3001, "Ruth")
    carer = await services.people.consent(3001, "Ruth")
    edna = await services.readers.register(
        first_name="Edna",
        phone=PHONE,
        interests=["stories", "nature"],
        needs="Hard of hearing",
        contact_person_id=carer.id,
    )
    return edna.id, ruth


async def book(services, reader_id: int, at: datetime = CALL) -> int:
    call = await services.readers.book(reader_id, at, weekly=False)
    assert call is not None, f"{at} should be free"
    return call.id


async def offer_to(services, dispatcher, clock, person) -> Shown:  # type: ignore[no-untyped-def]
    """Run matching and deliver: the offer is the newest message in the person's chat."""
    report = await services.calls.run_matching()
    assert report.offered >= 1
    await deliver(dispatcher, clock)
    [offer] = messages(person, "Could you call Edna")[-1:]
    return offer


@pytest.fixture
async def sam(people, dispatcher, clock):  # type: ignore[no-untyped-def]
    """Sam signs up (Tuesdays 10am-12pm, up to 3 calls, likes stories) and is approved."""
    person = await sign_up(people, 2001, "Sam")
    await approve(people, dispatcher, clock, "Sam")
    return person


# ---------------------------------------------------------------------------------------------
# Signing up and approval
# ---------------------------------------------------------------------------------------------


async def test_signing_up_one_question_at_a_time(people, services, dispatcher, clock):
    sam = people(2001, "Sam")
    await sam.send("/start")
    await sam.press("Yes, that's fine")
    [shown] = await sam.send("I'd like to volunteer")
    assert shown.text.startswith("Reading Friends volunteers phone someone")
    assert shown.labels()[:7] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert shown.labels()[-1] == "Menu"
    [shown] = await sam.press("Tuesday")
    assert shown.text == "Tuesday: from what time?"
    assert shown.labels()[0] == "9am" and shown.labels()[-2:] == ["Back", "Menu"]
    [shown] = await sam.press("10am")
    assert shown.text == "Tuesday from 10am: until what time?"
    assert shown.labels()[0] == "11am"
    [shown] = await sam.press("12pm")
    assert shown.text.startswith("Your times so far:\n• Tuesday 10am–12pm")
    assert shown.labels() == ["Add another time", "That's all", "Back", "Menu"]
    # Back takes the last time off and asks its end again.
    [shown] = await sam.press("Back")
    assert shown.text == "Tuesday from 10am: until what time?"
    await sam.press("1pm")
    [shown] = await sam.press("Add another time")
    assert shown.text == "Which other day are you free?"
    await sam.press("Thursday")
    await sam.press("2pm")
    [shown] = await sam.press("4pm")
    assert "• Tuesday 10am–1pm\n• Thursday 2pm–4pm" in shown.text
    [shown] = await sam.press("That's all")
    assert shown.text.startswith("How many calls could you make in a week, at most?")
    assert shown.labels() == ["1", "2", "3", "4", "5", "Back", "Menu"]
    [shown] = await sam.press("2")
    assert shown.text.startswith("What do you enjoy reading or talking about?")
    [shown] = await sam.press("Poetry")
    assert "✓ Poetry" in shown.labels()
    await sam.press("History")
    [shown] = await sam.press("✓ Poetry")  # changed his mind
    assert "Poetry" in shown.labels() and "✓ History" in shown.labels()
    [shown] = await sam.press("Done")
    assert shown.text == THANKS

    [volunteer] = await rows(services.db, Volunteer)
    assert volunteer.status == "pending"
    assert volunteer.calls_per_week == 2 and volunteer.interests == ["history"]
    view = await services.volunteers.get(volunteer.id)
    assert [(w.weekday, w.start_minute, w.end_minute) for w in view.windows] == [
        (1, 600, 780),
        (3, 840, 960),
    ]
    [shown] = await sam.send("/volunteer")
    assert "Waiting for approval" in shown.text
    assert "• Tuesday 10am–1pm" in shown.text and "Up to 2 calls a week" in shown.text
    assert shown.labels() == ["My calls", "Change my times", "Pause for a holiday", "Menu"]
    [shown] = await sam.press("My calls")
    assert shown.text.startswith("You have no calls booked just now.")
    assert await services.dialogs.get(2001) is None


async def test_staff_approve_with_a_typed_checks_date(people, services, dispatcher, clock):
    sam = await sign_up(people, 2001, "Sam")
    staff = staff_member(people)
    await deliver(dispatcher, clock)
    [alert] = messages(staff, "New Reading Friends volunteer: Sam")
    assert "up to 3 calls a week (Tuesday 10am–12pm)" in alert.text
    assert alert.labels() == ["Approve", "Reject"]

    # Sam can't approve himself, even with the button's data.
    [volunteer] = await rows(services.db, Volunteer)
    [shown] = await sam.press_data(actions.approve_volunteer(volunteer.id))
    assert shown.text.startswith(REFUSAL)
    [shown] = await sam.press_data(va.confirm_reject(volunteer.id))
    assert shown.text.startswith(REFUSAL)
    await sam.send("01/06/2026")
    [volunteer] = await rows(services.db, Volunteer)
    assert volunteer.status == "pending"

    [shown] = await staff.press("Approve")
    assert shown.text.startswith("When were Sam's checks (including the DBS check) done?")
    [shown] = await staff.send("the other day")
    assert shown.text.startswith("Sorry, I couldn't read that date.")
    [shown] = await staff.send("31/12/2026")
    assert shown.text.startswith("That date is still to come.")
    [shown] = await staff.send("01/06/2023")
    assert shown.text.startswith("Checks done then have run out (they last 3 years).")
    [volunteer] = await rows(services.db, Volunteer)
    assert volunteer.status == "pending"
    [shown] = await staff.send("2026-11-03")
    assert shown.text == "Approved. I've let Sam know."
    assert shown.labels() == ["Staff menu", "Menu"]
    [volunteer] = await rows(services.db, Volunteer)
    assert volunteer.status == "approved" and volunteer.checks_on == date(2026, 11, 3)

    await deliver(dispatcher, clock)
    assert sam.last.text.startswith("Welcome to Reading Friends! You're approved")
    [shown] = await sam.press("My volunteering")
    assert "Approved: I'll offer you calls that fit your times." in shown.text


async def test_staff_reject_after_confirming(people, services, dispatcher, clock):
    rex = await sign_up(people, 2003, "Rex")
    staff = staff_member(people)
    await deliver(dispatcher, clock)
    [shown] = await staff.press("Reject")
    assert shown.text.startswith("Reject Rex's offer to volunteer?")
    [volunteer] = await rows(services.db, Volunteer)
    assert volunteer.status == "pending"
    [shown] = await staff.press("Yes, reject")
    assert shown.text == "Done. I've let Rex know."
    [volunteer] = await rows(services.db, Volunteer)
    assert volunteer.status == "rejected"
    await deliver(dispatcher, clock)
    assert rex.last.text.startswith("Thank you for offering to volunteer with Reading Friends.")
    [shown] = await rex.send("/volunteer")
    assert "We can't take you on just now" in shown.text
    assert shown.labels() == ["Menu"]
    # A stale Approve afterwards changes nothing.
    [shown] = await staff.press_data(actions.approve_volunteer(volunteer.id))
    assert shown.text == "Rex has already been turned down."


# ---------------------------------------------------------------------------------------------
# Offers, acceptance and the number
# ---------------------------------------------------------------------------------------------


async def test_an_offer_accepted_shows_the_number_and_a_forged_accept_changes_nothing(
    people, services, dispatcher, clock, sam, phone_stays_private
):
    reader_id, ruth = await reader_with_carer(services, people)
    await book(services, reader_id)
    offer = await offer_to(services, dispatcher, clock, sam)
    assert offer.text.startswith("Could you call Edna on Tue 1 Dec, 10am for 30 minutes?")
    assert "Likes: Stories, Nature" in offer.text and "Needs: Hard of hearing" in offer.text
    assert offer.labels() == ["Accept", "Decline"]

    # Priya, another approved volunteer, forges an Accept for Sam's offer.
    priya = await sign_up(people, 2002, "Priya")
    await approve(people, dispatcher, clock, "Priya")
    [offer_row] = await rows(services.db, CallOffer)
    [shown] = await priya.press_data(actions.accept_offer(offer_row.id))
    assert shown.text == GONE
    await priya.send("/volunteer")
    [shown] = await priya.press_data(actions.decline_offer(offer_row.id))
    assert shown.text == GONE
    stranger = people(4040, "Mallory")  # never even agreed to the notice
    [shown] = await stranger.press_data(actions.accept_offer(offer_row.id))
    assert shown.text == GONE
    [offer_row] = await rows(services.db, CallOffer)
    assert offer_row.status == "pending"
    [call] = await rows(services.db, CallBooking)
    assert call.status == "offered" and call.volunteer_id is None

    [shown] = await sam.press("Accept")
    assert shown.text.startswith("Thank you! You're calling Edna on Tue 1 Dec, 10am.")
    assert f"Their number: {PHONE}" in shown.text
    assert "Likes: Stories, Nature\nNeeds: Hard of hearing" in shown.text
    assert "I'll send you a reminder an hour before" in shown.text
    assert shown.labels() == ["My calls", "Menu"]
    # Accepting twice: the offer is no longer open.
    [shown] = await sam.press_data(actions.accept_offer(offer_row.id))
    assert shown.text == GONE

    # Ruth, who looks after Edna, hears who will call, by first name only.
    await deliver(dispatcher, clock)
    [told] = messages(ruth, "Good news:")
    assert told.text == (
        "Good news: Sam, a Reading Friends volunteer, will phone Edna on Tue 1 Dec, 10am."
    )
    [shown] = await sam.send("/volunteer")
    [shown] = await sam.press("My calls")
    assert shown.text == (
        f"Your calls:\n\n1. Tue 1 Dec, 10am: Edna\nPhone: {PHONE}\nNeeds: Hard of hearing"
    )
    assert shown.labels() == ["Back", "Menu"]  # nothing to log before the call
    # The privacy watch saw the number (so its check at the end means something).
    assert {s.chat_id for _, s in phone_stays_private if shows_phone(s.text)} == {2001}


async def test_a_declined_offer_goes_to_the_next_volunteer(
    people, services, dispatcher, clock, sam, api
):
    priya = await sign_up(people, 2002, "Priya", interests=())
    await approve(people, dispatcher, clock, "Priya")
    reader_id, ruth = await reader_with_carer(services, people)
    await book(services, reader_id)
    await services.calls.run_matching()
    await deliver(dispatcher, clock)
    [first] = await rows(services.db, CallOffer)
    first_choice, second_choice = (sam, priya) if messages(sam, "Could you call") else (priya, sam)
    [shown] = await first_choice.press("Decline")
    assert shown.text == "Thank you for letting me know. I'll offer that call to another volunteer."
    await deliver(dispatcher, clock)
    assert len(messages(second_choice, "Could you call Edna")) == 1
    [shown] = await second_choice.press("Accept")
    assert f"Their number: {PHONE}" in shown.text
    offers = await rows(services.db, CallOffer)
    assert [o.status for o in offers] == ["declined", "accepted"]
    assert offers[1].volunteer_id != first.volunteer_id
    # The one who declined is never offered it again, and never sees the number.
    await services.calls.run_matching()
    await deliver(dispatcher, clock)
    assert len(ever_sent(api, first_choice.user_id, "Could you call Edna")) == 1
    await deliver(dispatcher, clock)
    [told] = messages(ruth, "Good news:")
    assert told.text.startswith(f"Good news: {second_choice.first_name}, a Reading Friends")


# ---------------------------------------------------------------------------------------------
# Around the call: reminders, the log prompt, concerns and missed calls
# ---------------------------------------------------------------------------------------------


async def test_reminders_then_a_worried_log_tells_staff_at_once(
    people, services, dispatcher, clock, sam
):
    reader_id, ruth = await reader_with_carer(services, people)
    call_id = await book(services, reader_id)
    await offer_to(services, dispatcher, clock, sam)
    await sam.press("Accept")
    await deliver(dispatcher, clock)

    clock.now = CALL - timedelta(days=1)  # Ruth's reminder, the day before
    await deliver(dispatcher, clock)
    [reminder] = messages(ruth, "A reminder:")
    assert reminder.text == "A reminder: Sam will phone Edna tomorrow, Tue 1 Dec, 10am."
    assert not messages(sam, "A reminder:")

    clock.now = CALL - timedelta(hours=1)  # Sam's, an hour before, with the number
    await deliver(dispatcher, clock)
    [reminder] = messages(sam, "A reminder:")
    assert reminder.text == (
        f"A reminder: your Reading Friends call with Edna is at Tue 1 Dec, 10am. "
        f"Their number is {PHONE}."
    )

    clock.now = CALL + timedelta(minutes=30)
    await deliver(dispatcher, clock)
    prompt = sam.last
    assert prompt.text == "How did your call with Edna go?"
    assert prompt.labels() == ["It went well", "No answer", "I'm worried about Edna"]
    [shown] = await sam.press("I'm worried about Edna")
    assert shown.text.startswith("I'm sorry to hear that. Please type a few words")
    assert "please call 999" in shown.text
    [shown] = await sam.send("She sounded confused and said she hadn't eaten today.")
    assert shown.text == (
        "Thank you. I've told library staff about Edna, and they'll follow it up today."
    )
    [call] = await rows(services.db, CallBooking, id=call_id)
    assert call.outcome == "concern" and call.note.startswith("She sounded confused")

    staff = staff_member(people)
    clock.advance(1)  # staff hear at once, not at the next reminder
    await dispatcher.sweep()
    [alert] = messages(staff, "Reading Friends concern:")
    assert "Sam is worried about Edna after the call on Tue 1 Dec, 10am." in alert.text
    assert "Note: She sounded confused and said she hadn't eaten today." in alert.text
    assert "Please follow this up today." in alert.text
    assert not shows_phone(alert.text)

    # Logged: the number no longer shows, and a second log is kindly refused.
    [shown] = await sam.send("/volunteer")
    [shown] = await sam.press("My calls")
    assert "Logged, thank you." in shown.text and not shows_phone(shown.text)
    [shown] = await sam.press_data(actions.log_call(call_id, "d"), prompt)
    assert shown.text.startswith("That call has already been logged")
    [call] = await rows(services.db, CallBooking, id=call_id)
    assert call.outcome == "concern"


async def test_a_worried_volunteer_can_tell_staff_without_a_note(
    people, services, dispatcher, clock, sam
):
    reader_id, _ = await reader_with_carer(services, people)
    call_id = await book(services, reader_id)
    await offer_to(services, dispatcher, clock, sam)
    await sam.press("Accept")
    clock.now = CALL + timedelta(minutes=45)
    # From My calls, once the call time has passed.
    await sam.send("/volunteer")
    [shown] = await sam.press("My calls")
    assert shown.labels()[0] == "How did it go? (1. Edna)"
    [shown] = await sam.press("How did it go? (1. Edna)")
    assert shown.text == "How did your call with Edna on Tue 1 Dec, 10am go?"
    await sam.press("I'm worried about Edna")
    [shown] = await sam.press("Tell staff without a note")
    assert shown.text.startswith("Thank you. I've told library staff about Edna")
    [call] = await rows(services.db, CallBooking, id=call_id)
    assert call.outcome == "concern" and call.note == ""
    assert await services.dialogs.get(2001) is None
    # Logged before the "how did it go?" prompt went: it isn't sent.
    await deliver(dispatcher, clock)
    assert not messages(sam, "How did your call with Edna go?")
    assert len(await rows(services.db, OutboxMessage, kind="call_concern")) == 1


async def test_two_missed_calls_in_a_row_alert_staff(people, services, dispatcher, clock, sam):
    reader_id, _ = await reader_with_carer(services, people)
    first = await book(services, reader_id, CALL)
    second = await book(services, reader_id, NEXT_CALL)
    await services.calls.run_matching()
    await deliver(dispatcher, clock)
    for offer in messages(sam, "Could you call Edna"):
        await sam.press_data(offer.all_buttons()[0][1] or "", offer)
    assert [c.status for c in await rows(services.db, CallBooking)] == ["confirmed"] * 2

    staff = staff_member(people)
    clock.now = CALL + timedelta(minutes=30)
    await deliver(dispatcher, clock)
    [shown] = await sam.press("No answer")
    assert shown.text.startswith("Thanks — we'll keep an eye on Edna.")
    await deliver(dispatcher, clock)
    assert not messages(staff, "Reading Friends: Edna did not answer")

    # A log button forged for the call that hasn't happened yet changes nothing.
    [shown] = await sam.press_data(actions.log_call(second, "n"))
    assert shown.text.startswith("That call has already been logged, or isn't one of yours.")

    clock.now = NEXT_CALL + timedelta(minutes=30)
    await deliver(dispatcher, clock)
    [shown] = await sam.press("No answer")
    assert shown.text.startswith("Thanks — we'll keep an eye on Edna.")
    await deliver(dispatcher, clock)
    [alert] = messages(staff, "Reading Friends: Edna did not answer two calls in a row")
    assert "(the latest on Tue 8 Dec, 10am)" in alert.text
    outcomes = {c.id: c.outcome for c in await rows(services.db, CallBooking)}
    assert outcomes == {first: "no_answer", second: "no_answer"}


async def test_an_unlogged_call_alerts_staff_after_a_day_and_the_number_goes(
    people, services, dispatcher, clock, sam
):
    reader_id, _ = await reader_with_carer(services, people)
    await book(services, reader_id)
    await offer_to(services, dispatcher, clock, sam)
    await sam.press("Accept")
    staff = staff_member(people)

    clock.now = CALL + timedelta(hours=23)
    assert await services.calls.alert_unlogged() == 0
    await sam.send("/volunteer")
    [shown] = await sam.press("My calls")
    assert f"Phone: {PHONE}" in shown.text  # still inside its window

    clock.now = CALL + timedelta(hours=24, minutes=1)
    assert await services.calls.alert_unlogged() == 1
    assert await services.calls.alert_unlogged() == 0  # once
    await deliver(dispatcher, clock)
    [alert] = messages(staff, "Reading Friends: the call with Edna")
    assert (
        alert.text == "Reading Friends: the call with Edna on Tue 1 Dec, 10am hasn't been logged."
    )
    await sam.send("/volunteer")
    [shown] = await sam.press("My calls")
    assert not shows_phone(shown.text)


# ---------------------------------------------------------------------------------------------
# Checks running out, and holidays
# ---------------------------------------------------------------------------------------------


async def test_expiring_checks_warn_once_each_and_expired_checks_stop_offers(
    people, services, dispatcher, clock
):
    sam = await sign_up(people, 2001, "Sam")
    # Checks done 1 Jan 2024 run out three years (1095 days) later: on 31 Dec 2026.
    await approve(people, dispatcher, clock, "Sam", checks="01/01/2024")
    staff = staff_member(people)
    expiry = date(2024, 1, 1) + timedelta(days=1095)
    assert expiry == date(2026, 12, 31)
    at_nine = datetime(2026, 1, 1, 9, tzinfo=UTC).timetz()

    assert await services.volunteers.warn_expiring_checks() == 0  # 37 days left
    clock.now = datetime.combine(expiry - timedelta(days=30), at_nine)
    assert await services.volunteers.warn_expiring_checks() == 1
    assert await services.volunteers.warn_expiring_checks() == 0
    clock.now += timedelta(days=1)
    assert await services.volunteers.warn_expiring_checks() == 0
    await deliver(dispatcher, clock)
    assert len(messages(sam, "Your volunteer checks (DBS) run out on 31 Dec 2026.")) == 1
    assert len(messages(staff, "Sam's volunteer checks run out on 31 Dec 2026")) == 1

    clock.now = datetime.combine(expiry - timedelta(days=7), at_nine)
    assert await services.volunteers.warn_expiring_checks() == 1
    assert await services.volunteers.warn_expiring_checks() == 0
    await deliver(dispatcher, clock)
    assert len(messages(sam, "Your volunteer checks (DBS) run out")) == 2
    warned = messages(staff, "Sam's volunteer checks run out on 31 Dec 2026")
    assert [m.text.rsplit("(", 1)[1] for m in warned] == ["in 30 days).", "in 7 days)."]

    # A call booked before they run out, for a day after: no offer once they have run out.
    reader_id, _ = await reader_with_carer(services, people)
    tuesday = datetime(2027, 1, 5, 10, tzinfo=UTC)
    await book(services, reader_id, tuesday)
    clock.now = datetime.combine(expiry, at_nine)
    report = await services.calls.run_matching()
    assert report.offered == 0
    assert await rows(services.db, CallOffer) == []
    await deliver(dispatcher, clock)
    assert not messages(sam, "Could you call Edna")
    [shown] = await sam.send("/volunteer")
    assert "Your volunteer checks (DBS) have run out" in shown.text
    assert await services.volunteers.warn_expiring_checks() == 0  # no more warnings


async def test_a_holiday_pause_stops_offers_until_the_date(
    people, services, dispatcher, clock, sam
):
    reader_id, _ = await reader_with_carer(services, people)
    await book(services, reader_id, CALL + timedelta(hours=1))  # Tue 1 Dec, 11am
    await sam.send("/volunteer")
    [shown] = await sam.press("Pause for a holiday")
    assert shown.text == "When would you like calls to start again?"
    assert shown.labels() == [
        "In 1 week (Tue 1 Dec)",
        "In 2 weeks (Tue 8 Dec)",
        "In a month (Thu 24 Dec)",
        "Type a date",
        "Back",
        "Menu",
    ]
    [shown] = await sam.press("In 1 week (Tue 1 Dec)")
    assert shown.text.startswith("Paused until Tue 1 Dec: I won't offer you new calls before then.")
    [shown] = await sam.send("/volunteer")
    assert "Paused until Tue 1 Dec." in shown.text
    assert "Start again" in shown.labels()

    assert (await services.calls.run_matching()).offered == 0
    clock.now = datetime(2026, 11, 30, 20, tzinfo=UTC)  # still on holiday the evening before
    assert (await services.calls.run_matching()).offered == 0
    clock.now = datetime(2026, 12, 1, 8, tzinfo=UTC)  # back
    assert (await services.calls.run_matching()).offered == 1
    await deliver(dispatcher, clock)
    [offer] = messages(sam, "Could you call Edna")
    assert offer.text.startswith("Could you call Edna on Tue 1 Dec, 11am")


async def test_pausing_until_a_typed_date_and_starting_again(
    people, services, dispatcher, clock, sam
):
    await sam.send("/volunteer")
    await sam.press("Pause for a holiday")
    [shown] = await sam.press("Type a date")
    assert shown.text.startswith("Please type the date you'd like calls to start again")
    [shown] = await sam.send("next Tuesday")
    assert shown.text.startswith("Sorry, I couldn't read that date.")
    [shown] = await sam.send("20/11/2026")
    assert shown.text.startswith("That date has already come.")
    [shown] = await sam.send("14/12/2026")
    assert shown.text.startswith("Paused until Mon 14 Dec")
    [volunteer] = await rows(services.db, Volunteer)
    assert volunteer.paused_until == date(2026, 12, 13)
    assert await services.dialogs.get(2001) is None
    [shown] = await sam.send("/volunteer")
    [shown] = await sam.press("Start again")
    assert shown.text == "Welcome back! I'll start offering you calls again."
    [volunteer] = await rows(services.db, Volunteer)
    assert volunteer.paused_until is None
    [shown] = await sam.press("My volunteering")
    assert "Pause for a holiday" in shown.labels()


async def test_changing_times(people, services, dispatcher, clock, sam):
    await sam.send("/volunteer")
    [shown] = await sam.press("Change my times")
    assert shown.text.startswith("Let's set your times again.")
    assert shown.labels()[-2:] == ["Back", "Menu"]
    await sam.press("Wednesday")
    await sam.press("2pm")
    await sam.press("5pm")
    [shown] = await sam.press("That's all")
    assert shown.text.startswith("Thank you, I've changed your times:\n• Wednesday 2pm–5pm")
    [volunteer] = await rows(services.db, Volunteer)
    view = await services.volunteers.get(volunteer.id)
    assert [(w.weekday, w.start_minute, w.end_minute) for w in view.windows] == [(2, 840, 1020)]


async def test_stale_and_forged_volunteer_buttons_get_a_kind_reply(people, services, sam):
    for data in ("vo:f:600", "vo:d:9", "vo:u:601", "vo:i:cricket", "vo:c:9", "vo:h:x", "lg:q:1"):
        [shown] = await sam.press_data(data)
        assert "no longer works" in shown.text or "isn't one of yours" in shown.text, data
    [shown] = await sam.press_data("vo:x")
    assert shown.text.startswith("Hello, Sam.")


async def test_a_concern_note_with_worrying_words_still_reaches_staff(
    people, services, dispatcher, clock, sam
):
    """A volunteer writing about a reader in distress is reporting it, not in distress: the note
    goes to staff as it is (and the volunteer isn't shown the helplines instead)."""
    reader_id, _ = await reader_with_carer(services, people)
    call_id = await book(services, reader_id)
    await offer_to(services, dispatcher, clock, sam)
    await sam.press("Accept")
    clock.now = CALL + timedelta(minutes=30)
    await deliver(dispatcher, clock)
    await sam.press("I'm worried about Edna")
    [shown] = await sam.send("Edna said she feels so alone she wants to die.")
    assert shown.text.startswith("Thank you. I've told library staff about Edna")
    [call] = await rows(services.db, CallBooking, id=call_id)
    assert call.outcome == "concern" and "wants to die" in call.note
    await deliver(dispatcher, clock)
    [alert] = messages(staff_member(people), "Reading Friends concern:")
    assert "Note: Edna said she feels so alone she wants to die." in alert.text
