"""Distress: the phrase file (every phrase is caught, everyday sentences are not), and the
conversation: signposting first, before any form or routing, and staff told about a reader.
"""

from __future__ import annotations

import pytest

from bot.db.models import OutboxMessage, Person
from bot.services.distress import parse_phrases, phrases, signals_distress
from bot.services.places import fold
from tests.conftest import STAFF_ID
from tests.world import count, resident

SAMARITANS = "Samaritans, free, day or night: 116 123"

# What people might write, meaning they may be in distress.
WORRYING = [
    "I feel so alone",
    "i feel so alone since my husband died",
    "I want to die",
    "Honestly I just want to die.",
    "There's no point going on",
    "I can't cope",
    "I CANT COPE anymore!!",
    "I can’t cope",  # a curly apostrophe, as phones type it
    "I'm lonely",
    "Im so lonely these days",
    "Sometimes I think about ending it all",
    "I've been feeling lonely",
    "I haven't spoken to anyone in days",
]

# Everyday sentences that must not raise an alarm.
ORDINARY = [
    "Die Hard is my favourite film",
    "I'd die for a cuppa",
    "We're dying to come back next week",
    "I'm killing myself laughing",
    "I can't go on Tuesday, sorry",
    "I'm hopeless at knitting",
    "I give up, where are the sessions?",
    "Can I come alone?",
    "I live alone in Dereham",
    "Is it for people who feel lonely?",
    "Lonely Planet guide to Norfolk",
    "tea",
    "Knit and Natter in Norwich please",
    "Is there a session at the end of the month?",
    "My house is falling apart, can someone help with a lift?",
    "I want to diet",
    "Can I cancel my booking",
    "",
]


def test_every_phrase_in_the_file_is_caught_in_a_sentence():
    assert len(phrases()) >= 40
    for phrase in phrases():
        assert signals_distress(phrase), phrase
        assert signals_distress(f"Hello. {phrase.upper()}, to be honest."), phrase


@pytest.mark.parametrize("text", WORRYING)
def test_worrying_words_are_caught(text):
    assert signals_distress(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_everyday_sentences_are_not(text):
    assert not signals_distress(text)


def test_the_file_format():
    parsed = parse_phrases(
        "# a comment\n\n  Can't Cope  \n# want to die (commented out)\ncan't cope\n!!!\n"
    )
    assert parsed == ("cant cope",)
    assert all(phrase == fold(phrase) and phrase for phrase in phrases())


# ---------------------------------------------------------------------------------------------
# In conversation
# ---------------------------------------------------------------------------------------------


async def test_a_resident_is_shown_where_to_get_help(world, people, services):
    margaret = await resident(people, 501, "Margaret")
    [shown] = await margaret.send("I feel so alone")
    assert shown.text.startswith("I'm sorry you're feeling like this.")
    for words in (SAMARITANS, "NHS 111 for urgent health help", "In an emergency call 999"):
        assert words in shown.text
    assert "You can also call us on 0344 800 8020." in shown.text
    assert "Find a session" in shown.labels()  # and the menu, to carry on
    assert "Reading Friends team" not in shown.text
    assert await count(services.db, OutboxMessage, kind="distress") == 0


async def test_the_home_library_number_is_given(world, people, services):
    margaret = await resident(people, 502, "Margaret")
    person = await services.people.by_telegram(502)
    await services.people.set_home_library(person.id, world.libraries["Dereham"])
    [shown] = await margaret.send("I can't cope")
    assert "You can also call us on 01362 693184." in shown.text


async def test_someone_who_has_not_agreed_is_helped_and_nothing_is_kept(world, people, services):
    stranger = people(503, "Sam")
    [shown] = await stranger.send("I want to die")
    assert SAMARITANS in shown.text
    assert await count(services.db, Person) == 0
    assert await count(services.db, OutboxMessage) == 0


async def test_a_reader_is_helped_and_staff_are_told(world, people, services, dispatcher, api):
    olive = await resident(people, 504, "Olive")
    person = await services.people.by_telegram(504)
    await services.readers.register(
        first_name="Olive",
        phone="01603 774774",
        interests=[],
        needs="",
        contact_person_id=person.id,
    )
    [shown] = await olive.send("I'm so lonely, there's no point going on")
    assert SAMARITANS in shown.text
    assert "I've let our Reading Friends team know too" in shown.text
    assert api.chat(STAFF_ID) == []  # not yet: it goes through the outbox
    await dispatcher.sweep()
    [alert] = api.chat(STAFF_ID)
    assert alert.text.startswith("Please check on Olive: they may be in distress.")
    assert "“I'm so lonely, there's no point going on”" in alert.text
    assert "774774" not in alert.text


async def test_distress_comes_before_an_open_form(world, people, services):
    margaret = await resident(people, 505, "Margaret")
    await margaret.send("/readingfriends")
    await margaret.press("Register for calls")
    await margaret.press("Someone I care for or refer")
    before = await services.dialogs.get(505)
    [shown] = await margaret.send("I can't cope any more")
    assert SAMARITANS in shown.text
    assert await services.dialogs.get(505) == before  # the form is still there to go back to


async def test_a_long_message_is_shortened_for_staff(world, people, services):
    await resident(people, 506, "Olive")
    person = await services.people.by_telegram(506)
    await services.readers.register(
        first_name="Ted", phone="01603 774774", interests=[], needs="", contact_person_id=person.id
    )
    said = "I feel so alone. " + "And the days are long. " * 30
    assert await services.distress.alert_if_reader(person.id, said)
    [alert] = [m for m in await _outbox(services) if m.kind == "distress"]
    assert alert.chat_id == STAFF_ID and len(alert.text) < 500 and "…" in alert.text
    assert "Ted" in alert.text


async def _outbox(services):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    async with services.db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage)))
