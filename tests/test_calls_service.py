"""The Reading Friends call desk at service level: register, book, match, offer, answer, log."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import CallBooking, CallOffer, OutboxMessage, Person
from bot.services import calls as calls_module
from bot.services.calls import Accepted
from bot.services.views import WindowView
from tests.loop_ticks import loop_ticks
from tests.world import approved_volunteer

PHONE = "01603 774774"


async def person(services, telegram_id: int, name: str) -> int:
    return (await services.people.consent(telegram_id, name)).id


@pytest.fixture
async def desk(services):  # type: ignore[no-untyped-def]
    # Tuesdays 10:00-12:00 and Wednesdays 14:00-15:00 local (START is Tue 24 Nov 2026 09:00).
    sam = await approved_volunteer(
        services, 2001, "Sam", [WindowView(1, 600, 720), WindowView(2, 840, 900)], 3, ["stories"]
    )
    carer = await person(services, 3001, "Ruth")
    reader = await services.readers.register(
        first_name="Edna",
        phone=PHONE,
        interests=["stories", "nature"],
        needs="Hard of hearing",
        contact_person_id=carer,
    )
    return {"sam": sam, "carer": carer, "reader": reader.id}


async def rows(services, model, **where):
    async with services.db.transaction() as session:
        stmt = select(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return list(await session.scalars(stmt))


async def test_a_call_is_matched_offered_accepted_and_logged(services, desk, clock):
    slots = await services.readers.free_slots()
    assert slots, "Sam's windows give free slots"
    tuesday = next(s for s in slots if s.weekday() == 1)
    call = await services.readers.book(desk["reader"], tuesday, weekly=False)
    assert call is not None and call.status == "open"

    report = await services.calls.run_matching()
    assert report.offered == 1
    [offer] = await rows(services, CallOffer)
    [message] = await rows(services, OutboxMessage, kind="call_offer")
    assert "Edna" in message.text and "Hard of hearing" in message.text
    assert "774774" not in message.text, "an offer never carries the number"

    sam_person = (await services.volunteers.get(desk["sam"])).person_id
    accepted = await services.calls.answer(sam_person, offer.id, accept=True)
    assert isinstance(accepted, Accepted)
    assert accepted.phone == PHONE
    [told] = await rows(services, OutboxMessage, kind="call_confirmed")
    assert "Sam" in told.text and "774774" not in told.text

    clock.now = tuesday + timedelta(minutes=31)
    assert await services.calls.log(sam_person, call.id, "done") == "Edna"
    [booking] = await rows(services, CallBooking)
    assert booking.outcome == "done"


async def test_declined_offers_go_to_someone_else_and_never_back(services, desk, clock):
    priya = await approved_volunteer(services, 2002, "Priya", [WindowView(1, 600, 720)], 2)
    tuesday = next(s for s in await services.readers.free_slots() if s.weekday() == 1)
    await services.readers.book(desk["reader"], tuesday, weekly=False)
    await services.calls.run_matching()
    [first] = await rows(services, CallOffer)
    first_volunteer = await services.volunteers.get(first.volunteer_id)
    assert await services.calls.answer(first_volunteer.person_id, first.id, False) == "declined"
    await services.calls.run_matching()
    offers = await rows(services, CallOffer)
    assert len(offers) == 2
    assert offers[1].volunteer_id != first.volunteer_id
    assert {first.volunteer_id, offers[1].volunteer_id} == {desk["sam"], priya}


async def test_someone_elses_offer_cannot_be_accepted(services, desk):
    tuesday = next(s for s in await services.readers.free_slots() if s.weekday() == 1)
    await services.readers.book(desk["reader"], tuesday, weekly=False)
    await services.calls.run_matching()
    [offer] = await rows(services, CallOffer)
    stranger = await person(services, 4040, "Mallory")
    assert await services.calls.answer(stranger, offer.id, True) == "gone"
    [offer] = await rows(services, CallOffer)
    assert offer.status == "pending"


async def test_phone_number_is_not_stored_in_plain_text(services, desk):
    async with services.db.transaction() as session:
        people = list(await session.scalars(select(Person)))
    assert people
    from bot.db.models import Reader

    [reader] = await rows(services, Reader)
    assert "774774" not in reader.phone_encrypted
    assert services.vault.open(reader.phone_encrypted) == "+441603774774"


async def test_matching_runs_beside_the_bot_not_in_its_way(services, desk, monkeypatch):
    """The assignment is pure computation (a second for thousands of calls): the bot goes on
    answering people while it runs."""
    slots = await services.readers.free_slots()
    await services.readers.book(desk["reader"], slots[0], weekly=False)
    real_match = calls_module.match

    def slow_match(*args):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        return real_match(*args)

    monkeypatch.setattr(calls_module, "match", slow_match)
    async with loop_ticks(every=0.01) as ticks:
        report = await services.calls.run_matching()
    assert report.offered == 1
    assert ticks.count >= 10, f"the event loop ran {ticks.count} times in 0.3 s of matching"
