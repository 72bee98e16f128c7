"""/privacy, /mydata and /forgetme, staff erasing a reader without Telegram, and the daily
retention job: through the real Application and the local Bot API stand-in.

The main story: Zebedee (an unusual name, so a scan for it means something) books sessions,
follows Just a Cuppa, registers his mother Mabel for Reading Friends and volunteers himself,
calling Edna. He asks for his data, then to be forgotten. Afterwards no row in any table holds
his Telegram id, his name, Mabel's name or her phone number; the waiting list has moved on;
the volunteers and contacts affected are told; and the report's figures are unchanged.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import distinct, func, select

from bot.config import RetentionConfig
from bot.core import build_services
from bot.db.models import (
    Base,
    Booking,
    CallBooking,
    CallOffer,
    Follow,
    LibrarySession,
    OutboxMessage,
    Person,
    Reader,
    StaffAction,
    Volunteer,
)
from bot.services.views import WindowView
from tests.conftest import STAFF_ID
from tests.world import (
    approved_volunteer,
    book,
    count,
    deliver_everything,
    person_id,
    resident,
    rows,
    snapshot,
)

ZEBEDEE_ID = 7391204586  # a Telegram id that cannot turn up by chance
OLIVE_ID, SAM_ID, ANN_ID, BOB_ID = 3001, 2001, 4001, 4002
MABEL_PHONE, MABEL_DIGITS = "020 7946 0018", "2079460018"
EDNA_PHONE, EDNA_DIGITS = "01603 774774", "1603774774"
WED_CALL = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wed 25 Nov, 2pm (Zebedee calls Edna)
TUE_CALL = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tue 1 Dec, 10am (Zebedee calls Edna)
THU_CALL = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # Thu 26 Nov, 2pm (Sam calls Mabel)
AFTER_WED_CALL = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
CONFIRM = "Yes, delete everything"


async def accept_offers(services) -> None:  # type: ignore[no-untyped-def]
    """Every pending offer accepted by the volunteer it went to."""
    async with services.db.transaction() as session:
        offers = list(
            await session.execute(
                select(CallOffer.id, Volunteer.person_id)
                .join(Volunteer, Volunteer.id == CallOffer.volunteer_id)
                .where(CallOffer.status == "pending")
            )
        )
    for offer_id, pid in offers:
        accepted = await services.calls.answer(pid, offer_id, accept=True)
        assert not isinstance(accepted, str), accepted


async def scan(services, needles: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every value of every column of every table (as text, case ignored, and as bare digits),
    plus readers' phone numbers decrypted: where any needle turns up."""
    found = []
    lowered = [needle.lower() for needle in needles]
    async with services.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    texts = [str(value).lower()]
                    texts.append("".join(ch for ch in texts[0] if ch.isdigit()))
                    if table.name == "readers" and column == "phone_encrypted" and value:
                        texts.append(services.vault.open(value).replace(" ", ""))
                    for needle in lowered:
                        if any(needle in text for text in texts):
                            found.append(f"{table.name}.{column}: {needle}")
    return found


async def totals(services, start: datetime, end: datetime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The figures a report gives, counted straight from the tables."""
    held = (
        (LibrarySession.starts_at >= start)
        & (LibrarySession.starts_at < end)
        & (LibrarySession.status == "scheduled")
    )
    calls = (CallBooking.starts_at >= start) & (CallBooking.starts_at < end)
    on_held = select(Booking).join(LibrarySession, LibrarySession.id == Booking.session_id)
    async with services.db.transaction() as session:

        async def number(stmt) -> int:  # type: ignore[no-untyped-def]
            return int(await session.scalar(stmt) or 0)

        def bookings(*where):  # type: ignore[no-untyped-def]
            return select(func.count()).select_from(on_held.where(held, *where).subquery())

        return {
            "sessions held": await number(select(func.count()).where(held)),
            "places booked": await number(bookings(Booking.status == "booked")),
            "attended": await number(bookings(Booking.attendance == "attended")),
            "waitlisted": await number(bookings(Booking.was_waitlisted)),
            "cancelled": await number(bookings(Booking.status == "cancelled")),
            "people reached": await number(
                select(func.count(distinct(Booking.person_key)))
                .join(LibrarySession, LibrarySession.id == Booking.session_id)
                .where(held, Booking.status == "booked")
            ),
            "calls booked": await number(select(func.count()).where(calls)),
            "calls done": await number(
                select(func.count()).where(calls, CallBooking.outcome == "done")
            ),
            "volunteers active": await number(
                select(func.count(distinct(CallBooking.volunteer_key))).where(
                    calls, CallBooking.volunteer_key.is_not(None)
                )
            ),
        }


async def everything(services) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Every table, row by row."""
    state: dict[str, Any] = dict(await snapshot(services.db))
    async with services.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            state[table.name] = sorted(tuple(map(str, row)) for row in result)
    return state


@asynccontextmanager
async def nothing_changes(services: Any):  # type: ignore[no-untyped-def]
    before = await everything(services)
    yield
    assert await everything(services) == before, "that changed the database"


@pytest.fixture
async def story(world, people, services, clock, dispatcher):  # type: ignore[no-untyped-def]
    """Zebedee's life with Cuppa up to Wed 25 Nov, 4pm (START is Tue 24 Nov, 9am)."""
    zebedee = await resident(people, ZEBEDEE_ID, "Zebedee")
    ann = await resident(people, ANN_ID, "Ann")
    bob = await resident(people, BOB_ID, "Bob")
    olive = await resident(people, OLIVE_ID, "Olive")
    zeb = await person_id(services, ZEBEDEE_ID)
    await services.people.set_home_library(zeb, world.libraries["Dereham"])
    await services.follows.follow(zeb, activity_id=world.activities["Just a Cuppa"])

    # Sessions: one today (he comes), one on Thursday (two places: Bob waits for one).
    for person in (zebedee, ann):
        assert (await book(person, world.sessions["dereham_knit"])).text.startswith("You're")
        assert (await book(person, world.sessions["norwich_cuppa"])).text.startswith("You're")
    assert "waiting list" in (await book(bob, world.sessions["norwich_cuppa"])).text
    await book(zebedee, world.sessions["online_cuppa"])

    # Reading Friends: Zebedee volunteers (Tue and Wed); Sam takes Thursdays.
    await approved_volunteer(
        services,
        ZEBEDEE_ID,
        "Zebedee",
        [WindowView(1, 600, 720), WindowView(2, 840, 900)],
        3,
        ["stories"],
    )
    await approved_volunteer(services, SAM_ID, "Sam", [WindowView(3, 840, 900)], 3, ["stories"])
    edna = await services.readers.register(
        first_name="Edna",
        phone=EDNA_PHONE,
        interests=["stories"],
        needs="Hard of hearing",
        contact_person_id=await person_id(services, OLIVE_ID),
    )
    mabel = await services.readers.register(
        first_name="Mabel",
        phone=MABEL_PHONE,
        interests=["poetry"],
        needs="Speak slowly",
        contact_person_id=zeb,
    )
    for reader, at in ((edna.id, WED_CALL), (edna.id, TUE_CALL), (mabel.id, THU_CALL)):
        assert await services.readers.book(reader, at, weekly=False) is not None
    assert (await services.calls.run_matching()).offered == 3
    await accept_offers(services)
    await deliver_everything(dispatcher, clock)

    # A day and a bit later: the knitting happened, and so did Wednesday's call.
    clock.now = AFTER_WED_CALL
    for booking in await rows(services, Booking, session_id=world.sessions["dereham_knit"]):
        assert await services.admin.mark_attendance(STAFF_ID, booking.id, "attended")
    [wed] = await rows(services, CallBooking, starts_at=WED_CALL)
    assert await services.calls.log(zeb, wed.id, "done", "Lovely chat about her garden") == "Edna"
    await deliver_everything(dispatcher, clock)
    return {
        "zebedee": zebedee,
        "bob": bob,
        "olive": olive,
        "zeb": zeb,
        "edna": edna.id,
        "mabel": mabel.id,
    }


# ---------------------------------------------------------------------------------------------
# /privacy
# ---------------------------------------------------------------------------------------------


async def test_privacy_says_what_why_how_long_and_who(world, people):
    margaret = await resident(people, 301, "Margaret")
    [shown] = await margaret.send("/privacy")
    text = shown.text
    assert text.startswith("Your privacy")
    for words in (
        "What I keep: your first name and Telegram account, your bookings",
        "Why: to hold your place",
        "those counts never name anyone",
        "How long: until you ask us to delete it.",
        "notes about a call are cleared after a year",
        "records of messages I've sent after 3 months",
        "your name comes off past bookings after 2 years",
        "Who sees it: library staff.",
        "only to the volunteer taking their call",
        "/mydata",
        "/forgetme",
        "0344 800 8020",
    ):
        assert words in text, words
    assert shown.labels() == ["Send me my data", "Delete my data", "Menu"]

    stranger = people(302, "Sam")
    [shown] = await stranger.send("/privacy")
    assert shown.labels() == ["Yes, that's fine", "Menu"]


async def test_privacy_quotes_the_configured_periods(config, clock, db, api):
    from bot.telegram.application import build_application
    from bot.telegram.local_chat import LocalUser

    services = build_services(config.replace(retention=RetentionConfig(180, 30, 400)), clock, db)
    application = build_application(services, request=api)
    async with application:
        [shown] = await LocalUser(application, api, 303, "Jo").send("/privacy")
    assert "cleared after 6 months" in shown.text
    assert "sent after a month" in shown.text
    assert "after 400 days" in shown.text


# ---------------------------------------------------------------------------------------------
# /mydata
# ---------------------------------------------------------------------------------------------


async def test_my_data_is_a_readable_file_of_everything_held(story, services):
    zebedee = story["zebedee"]
    replies = await zebedee.send("/mydata")
    [document] = [shown for shown in replies if shown.document is not None]
    filename, content = document.document
    assert filename == "cuppa-my-data.txt"
    assert "everything I keep about you" in document.text
    text = content.decode("utf-8")
    for words in (
        "First name: Zebedee",
        f"Telegram account number: {ZEBEDEE_ID}",
        "Home library: Dereham Library",
        "Sessions you look for: in person and online",
        "Reminders: the day before and 1 hour before",
        "YOUR BOOKINGS (3)",
        "- Knit and Natter, Dereham Library, Tue 24 Nov 2026, 3pm: booked, you came",
        "- Just a Cuppa, Norwich Millennium Library, Thu 26 Nov 2026, 10am: booked",
        "- Just a Cuppa, online, Wed 25 Nov 2026, 11am: booked",
        "WHAT YOU FOLLOW",
        "- Just a Cuppa",
        "READERS YOU REGISTERED",
        "Mabel",
        f"Phone: {MABEL_PHONE}",
        "Needs: Speak slowly",
        "Call Thu 26 Nov 2026, 2pm: a volunteer is booked",
        "YOUR VOLUNTEERING",
        "Status: approved",
        "Your times: Tuesday 10am–12pm; Wednesday 2pm–3pm",
        "- Wed 25 Nov 2026, 2pm with Edna: done",
        "- Tue 1 Dec 2026, 10am with Edna: you're booked to call",
        "MESSAGES WAITING TO BE SENT TO YOU",
        "A reminder: your Reading Friends call with Edna is at Tue 1 Dec, 10am.",
        "send /forgetme",
    ):
        assert words in text, words
    # Readers he calls: first names and times only, and their number not before its time.
    assert EDNA_DIGITS not in text.replace(" ", "")
    assert "Hard of hearing" not in text
    assert "[[phone:" not in text
    assert replies[-1].text == "Is there anything else I can help with?"


async def test_my_data_for_someone_with_nothing_held(world, people, services):
    stranger = people(305, "Sam")
    [shown] = await stranger.send("/mydata")
    assert shown.text.startswith("I don't keep anything about you")
    assert shown.document is None
    [shown] = await stranger.send("/forgetme")
    assert shown.text.startswith("I don't keep anything about you")
    assert await count(services.db, Person) == 0


# ---------------------------------------------------------------------------------------------
# /forgetme
# ---------------------------------------------------------------------------------------------


async def test_forget_me_erases_everything_and_keeps_the_figures(
    story, services, dispatcher, clock, world, api
):
    zebedee = story["zebedee"]
    tz = services.config.tz
    start, end = date(2026, 11, 24), date(2026, 11, 25)
    low = datetime(2026, 11, 24, tzinfo=tz)
    high = AFTER_WED_CALL
    figures_before = await totals(services, low, high)
    report_before = await services.reports.build(start, end)
    readers_before = await count(services.db, Reader)
    assert figures_before["people reached"] == 2 and figures_before["volunteers active"] == 1
    assert await scan(services, ["Zebedee", str(ZEBEDEE_ID), "Mabel", MABEL_DIGITS])

    # Just before, he wrote something worrying: staff have an alert waiting that names him.
    [shown] = await zebedee.send("I feel so alone")
    assert "I've let our Reading Friends team know too" in shown.text

    [asked] = await zebedee.send("/forgetme")
    assert asked.text.startswith("Are you sure? I'll delete everything I keep about you")
    assert asked.labels() == [CONFIRM, "No, keep it"]
    [done] = await zebedee.press(CONFIRM)
    assert done.text.startswith("Done. I've deleted everything I kept about you, Zebedee.")
    assert "send /start" in done.text

    # Not a trace of him (or of Mabel, whom he registered) in any row of any table.
    assert await scan(services, ["Zebedee", str(ZEBEDEE_ID), "Mabel", MABEL_DIGITS]) == []
    assert await count(services.db, Person, telegram_id=ZEBEDEE_ID) == 0
    assert await count(services.db, Follow) == 0
    assert await count(services.db, Volunteer) == 1  # Sam

    # The alert still reaches staff, without his name or Mabel's.
    [alert] = await rows(services, OutboxMessage, kind="distress")
    assert alert.status == "pending"
    assert alert.text.startswith("Please check on someone: they may be in distress.")

    # The figures: the same report, the same counts; readers stay as anonymous rows.
    assert await totals(services, low, high) == figures_before
    assert await services.reports.build(start, end) == report_before
    assert await count(services.db, Reader) == readers_before
    [mabel] = await rows(services, Reader, id=story["mabel"])
    assert (mabel.first_name, mabel.phone_encrypted, mabel.needs) == ("", "", "")
    assert mabel.contact_person_id is None and mabel.erased_at == clock.now
    [past] = await rows(services, CallBooking, starts_at=WED_CALL)
    assert past.volunteer_key and past.volunteer_id is None and past.outcome == "done"

    # His place on Thursday went to Bob, who waited longest, and Bob is told.
    [bobs] = await rows(
        services,
        Booking,
        session_id=world.sessions["norwich_cuppa"],
        person_id=await person_id(services, BOB_ID),
    )
    assert bobs.status == "booked"
    await deliver_everything(dispatcher, clock)
    assert story["bob"].last.text.startswith("Good news, Bob! A place has come up")
    # Edna's next call goes back to matching, and Olive hears why.
    [tuesday] = await rows(services, CallBooking, starts_at=TUE_CALL)
    assert (tuesday.status, tuesday.volunteer_id, tuesday.volunteer_key) == ("open", None, None)
    assert story["olive"].last.text.startswith(
        "The volunteer who was going to phone Edna on Tue 1 Dec, 10am can no longer do it"
    )
    # Sam need not phone Mabel, and isn't told her name.
    sams = [shown for shown in api.chat(SAM_ID) if "no longer needed" in shown.text]
    assert [shown.text for shown in sams] == [
        "Your Reading Friends call on Thu 26 Nov, 2pm is no longer needed, so there's no need "
        "to phone. Thank you."
    ]
    [thursday] = await rows(services, CallBooking, starts_at=THU_CALL)
    assert thursday.status == "cancelled"
    # One anonymous line in the audit trail.
    [entry] = await rows(services, StaffAction, action="erasure")
    assert (entry.staff_telegram_id, entry.detail) == (-1, "a person erased their data")

    # He is a stranger to the bot now.
    [shown] = await zebedee.send("/mydata")
    assert shown.text.startswith("I don't keep anything about you")
    replies = await zebedee.send("/start")
    assert "Is that OK?" in replies[-1].text


async def test_forget_me_then_typing_instead_of_tapping_changes_nothing(story, services):
    zebedee = story["zebedee"]
    await zebedee.send("/forgetme")
    async with nothing_changes(services):
        for text in ("yes", "Yes, delete everything", "delete", "🙂"):
            replies = await zebedee.send(text)
            assert replies and "went wrong" not in replies[-1].text
    assert await count(services.db, Person, telegram_id=ZEBEDEE_ID) == 1


async def test_no_keep_it_keeps_everything(story, services):
    zebedee = story["zebedee"]
    await zebedee.send("/forgetme")
    async with nothing_changes(services):
        [shown] = await zebedee.press("No, keep it")
    assert shown.text.startswith("Hello, Zebedee.")


async def test_forget_me_from_the_privacy_buttons(world, people, services):
    margaret = await resident(people, 306, "Margaret")
    await book(margaret, world.sessions["dereham_cuppa"])
    await margaret.send("/privacy")
    [asked] = await margaret.press("Delete my data")
    assert asked.text.startswith("Are you sure?")
    await margaret.press(CONFIRM)
    assert await count(services.db, Person) == 0
    [booking] = await rows(services, Booking)
    assert booking.person_id is None and booking.status == "cancelled" and booking.person_key


# ---------------------------------------------------------------------------------------------
# Staff erase a reader who has no Telegram
# ---------------------------------------------------------------------------------------------


async def test_staff_erase_a_reader_without_telegram(
    world, people, services, dispatcher, clock, api
):
    await approved_volunteer(services, SAM_ID, "Sam", [WindowView(3, 840, 900)], 3, ["stories"])
    reader = await services.readers.register(
        first_name="Winifred",
        phone=MABEL_PHONE,
        interests=[],
        needs="Deaf in one ear",
        staff_id=STAFF_ID,
    )
    await services.readers.book(reader.id, THU_CALL, weekly=False)
    await services.calls.run_matching()
    await accept_offers(services)
    await deliver_everything(dispatcher, clock)

    # A resident cannot, even with forged buttons.
    resident_ = await resident(people, 307, "Margaret")
    async with nothing_changes(services):
        for data in ("pf:l", f"pf:r:{reader.id}", f"pf:x:{reader.id}"):
            [shown] = await resident_.press_data(data)
            assert shown.text.startswith("Sorry, that's only for library staff.")

    staff = people(STAFF_ID, "Pat")
    await staff.send("/staff")
    [shown] = await staff.press("Readers without Telegram")
    assert "Readers registered by staff" in shown.text
    [shown] = await staff.press("Delete Winifred's details")
    assert shown.text.startswith("Delete everything about Winifred")
    [shown] = await staff.press("Yes, delete Winifred's details")
    assert shown.text.startswith("Done: Winifred's details are deleted.")
    assert "There are no readers registered by staff." in shown.text

    assert await scan(services, ["Winifred", MABEL_DIGITS, "Deaf in one ear"]) == []
    [row] = await rows(services, Reader)
    assert row.erased_at is not None and row.registered_by_staff == STAFF_ID
    [entry] = await rows(services, StaffAction, action="erase reader")
    assert (entry.staff_telegram_id, entry.detail) == (STAFF_ID, f"reader {reader.id}")
    await deliver_everything(dispatcher, clock)
    assert api.chat(SAM_ID)[-1].text.startswith(
        "Your Reading Friends call on Thu 26 Nov, 2pm is no longer needed"
    )
    # Pressing the old button again finds nothing to erase.
    [shown] = await staff.press_data(f"pf:x:{reader.id}")
    assert shown.text.startswith("Sorry, I can't find that reader.")
    # The audit trail shows who.
    await staff.send("/staff")
    [shown] = await staff.press("Recent staff actions")
    assert f"you: erase reader: reader {reader.id}" in shown.text


async def test_staff_cannot_erase_a_reader_someone_else_registered(story, people, services):
    staff = people(STAFF_ID, "Pat")
    async with nothing_changes(services):
        [shown] = await staff.press_data(f"pf:x:{story['edna']}")
        assert shown.text.startswith("Sorry, I can't find that reader.")
        [shown] = await staff.press_data("pf:x:99999999999")
        assert shown.text.startswith("Sorry, that button no longer works.")


# ---------------------------------------------------------------------------------------------
# Retention: the daily job
# ---------------------------------------------------------------------------------------------


async def test_retention_clears_old_notes_deliveries_and_bookings(story, services, clock, world):
    from scheduling.jobs import build_scheduler

    job = build_scheduler(services).get_job("retention").func

    before = await rows(services, Booking)
    people_before = await count(services.db, Person)
    await job()  # nothing is old enough yet
    assert [b.person_id for b in await rows(services, Booking)] == [b.person_id for b in before]
    [call] = await rows(services, CallBooking, starts_at=WED_CALL)
    assert call.note == "Lovely chat about her garden"
    sent = await count(services.db, OutboxMessage, status="sent")
    assert sent > 0

    # 91 days on: delivery records go (pending messages stay); notes and bookings stay.
    clock.now = AFTER_WED_CALL + timedelta(days=91)
    pending = await count(services.db, OutboxMessage, status="pending")
    await job()
    assert await count(services.db, OutboxMessage, status="sent") == 0
    assert await count(services.db, OutboxMessage, status="pending") == pending
    [call] = await rows(services, CallBooking, starts_at=WED_CALL)
    assert call.note == "Lovely chat about her garden"

    # A year on: call notes are cleared; the call still counts.
    clock.now = AFTER_WED_CALL + timedelta(days=366)
    await job()
    [call] = await rows(services, CallBooking, starts_at=WED_CALL)
    assert call.note == "" and call.outcome == "done"
    assert all(b.person_id is not None for b in await rows(services, Booking))

    # Two years on: past bookings lose the person, keeping the pseudonym and the counts.
    clock.now = AFTER_WED_CALL + timedelta(days=731)
    await job()
    after = await rows(services, Booking)
    assert len(after) == len(before)
    assert all(b.person_id is None and b.person_key for b in after)
    assert {b.person_key for b in after} == {b.person_key for b in before}
    assert await count(services.db, Person) == people_before  # nobody's profile goes


async def test_retention_periods_come_from_configuration(
    world, people, services, config, clock, db
):
    custom = build_services(config.replace(retention=RetentionConfig(2, 1, 3)), clock, db)
    margaret = await resident(people, 308, "Margaret")
    await book(margaret, world.sessions["dereham_knit"])  # today, 3pm
    async with db.transaction() as session:
        session.add(
            OutboxMessage(chat_id=308, kind="test", text="hi", status="sent", created_at=clock.now)
        )
    clock.advance(2 * 86400)
    report = await custom.privacy.retain()
    assert report.deliveries_deleted >= 1 and report.bookings_anonymised == 0
    clock.advance(2 * 86400)
    report = await custom.privacy.retain()
    assert report.bookings_anonymised == 1
    [booking] = await rows(services, Booking)
    assert booking.person_id is None
