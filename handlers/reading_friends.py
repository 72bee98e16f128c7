"""/readingfriends: the reader's side of Reading Friends. Registering a reader (oneself, someone
one cares for or refers, or, for staff, someone without Telegram), booking phone calls (once or
weekly), seeing and cancelling the next calls, pausing, and asking for a different volunteer.

The registration form lives in the database (Dialogs flow "rf_register"), one question at a
time; the phone number in it is sealed by the phone vault, never kept in plain text. Every
reader and call id in button data is checked against the person asking (their contact, or staff).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from telegram import Update

from bot import actions
from bot import reader_actions as ra
from bot.clock import at_local, format_day, format_time, format_when
from bot.reader_actions import ReaderAction
from bot.services.people import NAME_LIMIT, clean_name
from bot.services.phones import PhoneKeyError, uk_number
from bot.services.readers import INTERESTS, NEEDS_LIMIT, ReaderError
from bot.services.views import Button, CallView, Keyboard, ReaderView
from handlers.common import MENU_BUTTON, expired_button, reply, show_menu, staff_only
from handlers.consent import ask_consent
from handlers.context import CuppaContext
from handlers.forms import joined, rows_of, tick_boxes, typed_text, user_id, wants_to_leave

log = logging.getLogger(__name__)

FLOW = "rf_register"
ABOUT = (
    "Reading Friends: a friendly volunteer phones for a chat, or to read aloud (stories, poems, "
    "the news), just once or every week.\n"
    "It's free, for anyone who finds it hard to get out, and you can book calls for yourself "
    "or for someone you care for."
)
# On the form, "Menu" also closes it, so later typing isn't taken for an answer.
LEAVE_BUTTON = Button("Menu", ra.LEAVE)
MAX_LISTED = 8
FIRST_NAME_LONGEST = 40
TIMES_PER_ROW = 3
MAX_PHONE_TYPED = 40
PHONE_HINT = "Please type it like 01603 774774 or 07400 123456."
LEAVE_WORDS = ("menu", "cancel", "stop")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def calls_word(count: int) -> str:
    return f"{count} booked call{'s' if count != 1 else ''}"


# Reading Friends: the readers someone looks after ------------------------------------------------


async def reading_friends_command(update: Update, context: CuppaContext) -> None:
    """/readingfriends, the "reading" words and the menu's button."""
    await show_home(update, context, edit=False)


async def show_home(
    update: Update, context: CuppaContext, lead: str = "", edit: bool = True
) -> None:
    """What Reading Friends is, the person's readers, and a way to register someone."""
    person = await context.person()
    if person is None:
        await ask_consent(update, context, lead=f"{ABOUT}\n\nFirst, a quick question.")
        return
    await close_form(update, context)
    readers = await context.services.readers.for_contact(person.id)
    keyboard: Keyboard = []
    if not readers:
        text = joined(lead, ABOUT, "Would you like to register for calls?")
        keyboard.append([Button("Register for calls", ra.REGISTER)])
    elif len(readers) == 1:
        text, keyboard = await reader_card(context, readers[0], lead)
        keyboard = keyboard[:-1]  # the card's Back would lead here
        keyboard.append([Button("Register someone else", ra.REGISTER)])
    else:
        text = joined(lead, "Reading Friends. Whose calls would you like to see?")
        keyboard += [[Button(reader.first_name, ra.reader(reader.id))] for reader in readers]
        keyboard.append([Button("Register someone else", ra.REGISTER)])
    if context.is_staff:
        keyboard.append([Button("Register a reader (staff)", ra.STAFF_REGISTER)])
    keyboard.append([MENU_BUTTON])
    await reply(update, text, keyboard, edit=edit)


async def close_form(update: Update, context: CuppaContext) -> None:
    """Drop an unfinished registration (only ours: another flow's form is left alone)."""
    dialogs = context.services.dialogs
    dialog = await dialogs.get(user_id(update))
    if dialog is not None and dialog.flow == FLOW:
        await dialogs.clear(user_id(update))


async def reader_card(
    context: CuppaContext, reader: ReaderView, lead: str = ""
) -> tuple[str, Keyboard]:
    """One reader: their next call, and what can be done (the last row is Back and Menu)."""
    calls = await context.services.readers.calls(reader.id)
    if reader.paused:
        status = "Their calls are paused."
    elif calls:
        status = f"Next call: {call_line(context, calls[0])}."
        if len(calls) > 1:
            status += f" ({calls_word(len(calls))} in all.)"
    else:
        status = "No calls booked yet."
    text = joined(lead, f"Reading Friends calls for {reader.first_name}.\n{status}")
    keyboard: Keyboard = []
    if reader.paused:
        keyboard.append([Button("Start calls again", ra.resume(reader.id))])
    else:
        keyboard.append(
            [
                Button("Book a call", ra.book(reader.id)),
                Button("Next calls", ra.next_calls(reader.id)),
            ]
        )
        keyboard.append([Button("Pause all calls", ra.pause(reader.id))])
    keyboard.append([Button("Ask for a different volunteer", ra.different_volunteer(reader.id))])
    person = await context.person()
    mine = person is not None and reader.contact_person_id == person.id
    back = ra.HOME if mine or not context.is_staff else actions.STAFF_MENU
    keyboard.append([Button("Back", back), MENU_BUTTON])
    return text, keyboard


def call_line(context: CuppaContext, call: CallView) -> str:
    when = format_when(call.starts_at, context.services.config.tz)
    weekly = " (weekly)" if call.weekly else ""
    who = (
        f"with {call.volunteer_name}"
        if call.status == "confirmed" and call.volunteer_name
        else "looking for a volunteer"
    )
    return f"{when}{weekly}, {who}"


async def show_reader(
    update: Update, context: CuppaContext, reader: ReaderView, lead: str = "", edit: bool = True
) -> None:
    text, keyboard = await reader_card(context, reader, lead)
    await reply(update, text, keyboard, edit=edit)


async def refreshed(context: CuppaContext, reader: ReaderView) -> ReaderView:
    """The reader as they are now (after pausing or starting again)."""
    readers = context.services.readers
    return await readers.own(reader.id, reader.contact_person_id, True) or reader


async def match_now(context: CuppaContext, after: str) -> None:
    """Offer open calls to volunteers at once; if that fails, the periodic matching job will."""
    try:
        await context.services.calls.run_matching()
    except Exception:
        log.warning("matching after %s failed", after, exc_info=True)


async def ask_yes_no(update: Update, question: str, yes: Button, no: Button) -> None:
    await reply(update, question, [[yes], [no]], edit=True)


async def cant_find(update: Update, context: CuppaContext) -> None:
    """Someone else's, gone or made-up reader or call: say so kindly; nothing changes."""
    await reply(update, "Sorry, I can't find that. It may have changed since.")
    await show_home(update, context, edit=False)


# buttons ----------------------------------------------------------------------------------------


async def reading_friends_button(update: Update, context: CuppaContext) -> None:
    """Every rf button."""
    action = ra.parse(update.callback_query.data)  # type: ignore[union-attr]
    if action is None:
        await expired_button(update, context)
        return
    if action.kind == "rf":
        await show_home(update, context)
    elif action.kind == "rf:staff":
        await start_staff_form(update, context)
    elif action.kind == "rf:m":
        await close_form(update, context)
        await show_menu(update, context)
    elif action.kind in FORM_ACTIONS:
        await FORM_ACTIONS[action.kind](update, context, action)
    else:
        await reader_button(update, context, action)


async def reader_button(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    """A button about one reader: only for their contact, or staff."""
    reader_id = action.values[0]
    assert isinstance(reader_id, int)
    person = await context.person()
    reader = await context.services.readers.own(
        reader_id, person.id if person else None, context.is_staff
    )
    if reader is None:
        await cant_find(update, context)
        return
    await READER_ACTIONS[action.kind](update, context, reader, action.values[1:])


# registering: one question at a time ---------------------------------------------------------


async def form(update: Update, context: CuppaContext) -> dict[str, Any] | None:
    dialog = await context.services.dialogs.get(user_id(update))
    if dialog is None or dialog.flow != FLOW:
        return None
    return dialog.data


async def save(update: Update, context: CuppaContext, data: dict[str, Any]) -> None:
    await context.services.dialogs.set(user_id(update), FLOW, data)


async def form_gone(update: Update, context: CuppaContext) -> None:
    await reply(update, "Sorry, that form has closed. Let's start again.")
    await show_home(update, context, edit=False)


async def start_form(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    """Register someone: who are the calls for?"""
    if await context.person() is None:
        await show_home(update, context)
        return
    data = {"step": "who", "who": None}
    await save(update, context, data)
    await ask(update, context, data)


@staff_only
async def start_staff_form(update: Update, context: CuppaContext) -> None:
    """Staff register a reader without Telegram: the same questions, no contact person."""
    data = {"step": "name", "who": "staff"}
    await save(update, context, data)
    await ask(update, context, data, lead="Registering a reader for Reading Friends.")


async def choose_who(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    data = await form(update, context)
    if data is None or data.get("who") == "staff" or await context.person() is None:
        await form_gone(update, context)
        return
    who = "me" if action.kind == ra.FOR_ME else "other"
    data = {"step": "name", "who": who}
    await save(update, context, data)
    await ask(update, context, data)


async def use_my_name(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    data = await form(update, context)
    person = await context.person()
    if data is None or data.get("who") != "me" or person is None:
        await form_gone(update, context)
        return
    name = clean_name(person.first_name)
    if problem := name_problem(name):
        await ask(update, context, data, lead=problem)
        return
    await answered(update, context, {**data, "name": name, "step": "phone"})


async def toggle_interest(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    data = await form(update, context)
    code = action.values[0]
    if data is None or "phone" not in data:
        await form_gone(update, context)
        return
    if code not in INTERESTS:
        await expired_button(update, context)
        return
    chosen = [c for c in data.get("interests", []) if c in INTERESTS]
    chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
    await answered(update, context, {**data, "interests": chosen, "step": "interests"})


async def interests_done(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    data = await form(update, context)
    if data is None or "phone" not in data:
        await form_gone(update, context)
        return
    await answered(
        update, context, {**data, "interests": data.get("interests", []), "step": "needs"}
    )


async def choose_need(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    data = await form(update, context)
    if data is None or "interests" not in data:
        await form_gone(update, context)
        return
    need = ra.NEEDS[str(action.values[0])]
    await answered(update, context, {**data, "needs": need, "step": "consent"})


async def go_back(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    data = await form(update, context)
    step = str(action.values[0])
    if data is None or not can_ask(step, data):
        await form_gone(update, context)
        return
    await answered(update, context, {**data, "step": step})


def can_ask(step: str, data: dict[str, Any]) -> bool:
    """Whether the answers before `step` are all in (so it can be asked again)."""
    needed = {"who": [], "name": ["who"], "phone": ["name"], "interests": ["phone"]}
    needed |= {"needs": ["phone"], "consent": ["phone", "needs"]}
    if step == "who" and data.get("who") == "staff":
        return False
    return all(data.get(key) is not None for key in needed[step])


async def consent_no(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    data = await form(update, context)
    await close_form(update, context)
    who = "you" if data is not None and data.get("who") == "me" else "them"
    phone = context.services.config.service.phone
    keyboard = [[Button("Reading Friends", ra.HOME)], [MENU_BUTTON]]
    await reply(
        update,
        f"That's fine: I haven't kept anything about {who}. You can register at any time, "
        f"or call us on {phone} to talk it over.",
        keyboard,
        edit=True,
    )


async def consent_yes(update: Update, context: CuppaContext, action: ReaderAction) -> None:
    """Everything answered and agreed: register the reader, then offer to book a call."""
    data = await form(update, context)
    if data is None or not can_ask("consent", data):
        await form_gone(update, context)
        return
    who = data.get("who")
    person = await context.person()
    if (who == "staff" and not context.is_staff) or (who != "staff" and person is None):
        await form_gone(update, context)
        return
    services = context.services
    try:
        phone = services.vault.open(str(data["phone"]))
        reader = await services.readers.register(
            first_name=str(data["name"]),
            phone=phone,
            interests=[str(code) for code in data.get("interests", [])],
            needs=str(data.get("needs", "")),
            contact_person_id=person.id if who != "staff" and person else None,
            staff_id=user_id(update) if who == "staff" else None,
        )
    except PhoneKeyError:
        await no_phone_store(update, context)
        return
    except ReaderError as error:
        await answered(update, context, {**data, "step": "name"}, lead=str(error))
        return
    await close_form(update, context)
    keyboard: Keyboard = [[Button("Book a call", ra.book(reader.id))]]
    if who == "staff":
        keyboard.append([Button("Staff menu", actions.STAFF_MENU), MENU_BUTTON])
    else:
        keyboard.append([Button("Not now", ra.HOME), MENU_BUTTON])
    whom = "you're" if who == "me" else f"{reader.first_name} is"
    await reply(
        update,
        f"Thank you: {whom} registered for Reading Friends. Would you like to book a call now?",
        keyboard,
        edit=True,
    )


async def no_phone_store(update: Update, context: CuppaContext) -> None:
    """The phone key is not set up: numbers cannot be kept safely, so none is taken."""
    log.warning("Reading Friends registration refused: the phone key is not usable")
    await close_form(update, context)
    phone = context.services.config.service.phone
    await reply(
        update,
        "Sorry, I can't take Reading Friends details here just now. Please call us on "
        f"{phone} and we'll set it up with you.",
        [[MENU_BUTTON]],
    )


async def answered(
    update: Update, context: CuppaContext, data: dict[str, Any], lead: str = ""
) -> None:
    """Keep the answers so far and ask the question the form is on."""
    await save(update, context, data)
    await ask(update, context, data, lead)


async def ask(update: Update, context: CuppaContext, data: dict[str, Any], lead: str = "") -> None:
    step = str(data.get("step"))
    text, keyboard = await QUESTIONS[step](context, data)
    await reply(update, joined(lead, text), keyboard, edit=True)


def back_row(data: dict[str, Any], step: str) -> list[Button]:
    """Back to the question before `step` (before the first: where the form began)."""
    order = [s for s in ra.STEPS if not (s == "who" and data.get("who") == "staff")]
    index = order.index(step)
    if index == 0:
        back = actions.STAFF_MENU if data.get("who") == "staff" else ra.HOME
    else:
        back = ra.back_to(order[index - 1])
    return [Button("Back", back), LEAVE_BUTTON]


async def ask_who(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    keyboard = [
        [Button("Me", ra.FOR_ME)],
        [Button("Someone I care for or refer", ra.FOR_OTHER)],
        back_row(data, "who"),
    ]
    return "Who are the calls for?", keyboard


async def ask_name(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    keyboard: Keyboard = []
    if data.get("who") == "me":
        text = "What's your first name? Please type it, or tap it below."
        person = await context.person()
        if person is not None and not name_problem(clean_name(person.first_name)):
            keyboard.append([Button(clean_name(person.first_name), ra.MY_NAME)])
        else:
            text = "What's your first name? Please type it."
    else:
        text = "What's their first name? Please type it."
    keyboard.append(back_row(data, "name"))
    return text, keyboard


async def ask_phone(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    if data.get("who") == "me":
        question = "What number should the volunteer phone you on?"
    else:
        question = f"What number should the volunteer phone {data.get('name')} on?"
    text = (
        f"{question} {PHONE_HINT}\n"
        "Only the volunteer who takes a call will see it, and only around the time of the call."
    )
    return text, [back_row(data, "phone")]


async def ask_interests(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    chosen = data.get("interests", [])
    keyboard = tick_boxes(INTERESTS, chosen, ra.interest)
    keyboard.append([Button("Done", ra.INTERESTS_DONE)])
    keyboard.append(back_row(data, "interests"))
    who = "do you" if data.get("who") == "me" else f"does {data.get('name')}"
    text = f"What {who} enjoy? Tap all that apply, then Done."
    return text, keyboard


async def ask_needs(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    labels = {"h": "Hard of hearing", "a": "Afternoons only", "m": "Mornings only"}
    keyboard: Keyboard = [[Button(label, ra.need(code))] for code, label in labels.items()]
    keyboard.append([Button("No particular needs", ra.need("x"))])
    keyboard.append(back_row(data, "needs"))
    who = "you are" if data.get("who") == "me" else f"{data.get('name')} is"
    text = (
        "Is there anything the volunteer should know? For example, if "
        f"{who} hard of hearing. Tap one, or type a few words."
    )
    return text, keyboard


async def ask_agreement(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    if data.get("who") == "me":
        text = (
            "Do you agree to a volunteer phoning you, and to us keeping your name and number "
            "for that?"
        )
        yes = "Yes, I agree"
    else:
        text = (
            f"Does {data.get('name')} agree to a volunteer phoning them, and to us keeping "
            "their name and number for that?"
        )
        yes = "Yes, they agree"
    keyboard = [
        [Button(yes, ra.CONSENT_YES), Button("No", ra.CONSENT_NO)],
        back_row(data, "consent"),
    ]
    return text, keyboard


QUESTIONS: dict[str, Callable[[CuppaContext, dict[str, Any]], Awaitable[tuple[str, Keyboard]]]] = {
    "who": ask_who,
    "name": ask_name,
    "phone": ask_phone,
    "interests": ask_interests,
    "needs": ask_needs,
    "consent": ask_agreement,
}


# typed answers ----------------------------------------------------------------------------------


def name_problem(name: str, typed: str = "") -> str | None:
    """What is wrong with a first name (`typed`: as typed, before trimming to length)."""
    if not name:
        return "Please type a first name."
    if any(char.isdigit() for char in name):
        return "Please type just the first name, in letters (the phone number comes next)."
    if max(len(name), len(typed)) > min(FIRST_NAME_LONGEST, NAME_LIMIT):
        return "That's a bit long for a first name. Please type just the first name."
    return None


def needs_problem(needs: str) -> str | None:
    if not needs:
        return "Please tap one of the buttons, or type a few words."
    if len(needs) > NEEDS_LIMIT:
        return f"That's a bit long: please keep it under {NEEDS_LIMIT} characters, or tap a button."
    if sum(char.isdigit() for char in needs) >= 7:
        return (
            "Please leave phone numbers out of this: the number to call is kept separately, "
            "locked away. Tap a button, or type a few words."
        )
    return None


async def typed_answer(update: Update, context: CuppaContext) -> None:
    """A typed answer to the registration form: the name, the number, or the needs."""
    data = await form(update, context)
    if data is None:
        await show_home(update, context, edit=False)
        return
    if data.get("who") == "staff" and not context.is_staff:
        await close_form(update, context)
        await show_menu(update, context)
        return
    text = typed_text(update)
    if wants_to_leave(text[:20], LEAVE_WORDS):
        await close_form(update, context)
        await show_menu(update, context, "OK, I've stopped that. What would you like to do?")
        return
    step = data.get("step")
    if step == "name":
        name = clean_name(text)
        if problem := name_problem(name, " ".join(text.split())):
            await ask(update, context, data, lead=problem)
            return
        await answered(update, context, {**data, "name": name, "step": "phone"})
    elif step == "phone":
        await typed_phone(update, context, data, text)
    elif step == "needs":
        needs = " ".join(text.split())
        if problem := needs_problem(needs):
            await ask(update, context, data, lead=problem)
            return
        await answered(update, context, {**data, "needs": needs, "step": "consent"})
    elif step in QUESTIONS:
        await ask(update, context, data, lead="Please choose from the buttons below.")
    else:
        await form_gone(update, context)


async def typed_phone(
    update: Update, context: CuppaContext, data: dict[str, Any], text: str
) -> None:
    """Check the number is a UK one; keep it sealed, never in plain text."""
    number = uk_number(text) if len(text) <= MAX_PHONE_TYPED else None
    if number is None:
        await ask(update, context, data, lead=await bad_number(context))
        return
    try:
        sealed = context.services.vault.seal(number)
    except PhoneKeyError:
        await no_phone_store(update, context)
        return
    await answered(update, context, {**data, "phone": sealed, "step": "interests", "interests": []})


async def bad_number(context: CuppaContext) -> str:
    """The service's own words for a number it won't take. Registering with no number always
    stops at the number check, before anything is stored."""
    try:
        await context.services.readers.register(
            first_name="Reader", phone="", interests=[], needs=""
        )
    except ReaderError as error:
        return str(error)
    raise AssertionError("a reader was registered with no phone number")


# booking a call ---------------------------------------------------------------------------------


async def free_times(context: CuppaContext, reader: ReaderView) -> list[datetime]:
    """Free call times in the booking window, without those this reader already has."""
    taken = {call.starts_at for call in await context.services.readers.calls(reader.id)}
    return [slot for slot in await context.services.readers.free_slots() if slot not in taken]


def local(context: CuppaContext, moment: datetime) -> datetime:
    return moment.astimezone(context.services.config.tz)


async def choose_day(
    update: Update,
    context: CuppaContext,
    reader: ReaderView,
    values: tuple[Any, ...] = (),
    lead: str = "",
) -> None:
    """The days in the booking window with a volunteer free."""
    if reader.paused:
        lead = joined(lead, f"{reader.first_name}'s calls are paused: tap Start calls again first.")
        await show_reader(update, context, reader, lead)
        return
    slots = await free_times(context, reader)
    days = sorted({local(context, slot).date() for slot in slots})
    back = [Button("Back", ra.reader(reader.id)), MENU_BUTTON]
    if not days:
        phone = context.services.config.service.phone
        text = joined(
            lead,
            "Sorry, no volunteers are free in the next two weeks. Please try again in a few "
            f"days, or call us on {phone} and we'll help.",
        )
        await reply(update, text, [back], edit=True)
        return
    keyboard = rows_of([Button(format_day(day), ra.day(reader.id, day)) for day in days], 2)
    keyboard.append(back)
    text = joined(lead, f"Which day would suit {reader.first_name} for a call?")
    await reply(update, text, keyboard, edit=True)


async def choose_time(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    """The free times on one day."""
    day = values[0]
    assert isinstance(day, date)
    slots = [s for s in await free_times(context, reader) if local(context, s).date() == day]
    if not slots:
        lead = f"Sorry, there are no free times left on {format_day(day)}."
        await choose_day(update, context, reader, lead=lead)
        return
    buttons = [
        Button(format_time(local(context, slot)), ra.how_often(reader.id, local(context, slot)))
        for slot in slots
    ]
    keyboard = rows_of(buttons, TIMES_PER_ROW)
    keyboard.append([Button("Back", ra.book(reader.id)), MENU_BUTTON])
    minutes = context.services.config.reading_friends.call_minutes
    await reply(
        update,
        f"What time on {format_day(day)}? Calls last about {minutes} minutes.",
        keyboard,
        edit=True,
    )


async def still_free(
    update: Update, context: CuppaContext, reader: ReaderView, wall: Any
) -> datetime | None:
    """The UTC time of a local slot from a button if it can still be booked; if not, say why
    and show the days again."""
    assert isinstance(wall, datetime)
    starts = at_local(wall.date(), wall.time(), context.services.config.tz)
    booked = {call.starts_at for call in await context.services.readers.calls(reader.id)}
    if starts in booked:
        lead = f"{reader.first_name} already has a call booked then."
    elif reader.paused or starts not in await context.services.readers.free_slots():
        lead = "Sorry, that time isn't free any more. Please choose another."
    else:
        return starts
    await choose_day(update, context, reader, lead=lead)
    return None


async def choose_repeat(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    starts = await still_free(update, context, reader, values[0])
    if starts is None:
        return
    wall = local(context, starts)
    keyboard = [
        [Button("Just this once", ra.book_once(reader.id, wall))],
        [Button("Every week at this time", ra.book_weekly(reader.id, wall))],
        [Button("Back", ra.day(reader.id, wall.date())), MENU_BUTTON],
    ]
    await reply(
        update,
        f"{format_when(starts, context.services.config.tz)}: just this once, or every week at "
        "this time?",
        keyboard,
        edit=True,
    )


async def book_call(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    """Book the call, start matching at once, and say what happens next."""
    weekly = update.callback_query.data.startswith("rf:e:")  # type: ignore[union-attr]
    services = context.services
    starts = await still_free(update, context, reader, values[0])
    if starts is None:
        return
    call = await services.readers.book(reader.id, starts, weekly)
    if call is None:
        lead = "Sorry, that time isn't free any more. Please choose another."
        await choose_day(update, context, reader, lead=lead)
        return
    await match_now(context, "a new call booking")  # the booking stands whatever happens
    tz = services.config.tz
    when = format_when(call.starts_at, tz)
    repeat = ""
    if weekly:
        wall = local(context, call.starts_at)
        repeat = f", then every {WEEKDAY_NAMES[wall.weekday()]} at {format_time(wall)}"
    tell = "I'll message you." if reader.contact_person_id else "I'll tell library staff."
    keyboard = [
        [Button("Next calls", ra.next_calls(reader.id))],
        [Button("Book another call", ra.book(reader.id))],
        [MENU_BUTTON],
    ]
    await reply(
        update,
        f"Booked: {when}{repeat}. A volunteer will be confirmed soon; {tell}",
        keyboard,
        edit=True,
    )


# next calls, cancelling, pausing, a different volunteer ------------------------------------------


async def show_reader_button(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    await show_reader(update, context, reader)


async def list_calls(
    update: Update,
    context: CuppaContext,
    reader: ReaderView,
    values: tuple[Any, ...] = (),
    lead: str = "",
) -> None:
    calls = await context.services.readers.calls(reader.id)
    back = [Button("Back", ra.reader(reader.id)), MENU_BUTTON]
    book_row = [Button("Book a call", ra.book(reader.id))] if not reader.paused else []
    if not calls:
        text = joined(lead, f"{reader.first_name} has no calls booked.")
        await reply(update, text, [row for row in (book_row, back) if row], edit=True)
        return
    shown = calls[:MAX_LISTED]
    lines = [f"{n}. {call_line(context, call)}" for n, call in enumerate(shown, start=1)]
    if len(calls) > MAX_LISTED:
        lines.append(f"…and {len(calls) - MAX_LISTED} more after these.")
    buttons = [
        Button(f"Cancel {n}", ra.cancel_call(reader.id, call.id))
        for n, call in enumerate(shown, start=1)
    ]
    keyboard = rows_of(buttons, 3)
    keyboard += [row for row in (book_row, back) if row]
    text = joined(lead, f"{reader.first_name}'s next calls:\n" + "\n".join(lines))
    await reply(update, text, keyboard, edit=True)


async def ask_cancel(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    call_id = values[0]
    calls = {call.id: call for call in await context.services.readers.calls(reader.id)}
    call = calls.get(call_id)  # type: ignore[call-overload]
    if call is None:
        await cant_find(update, context)
        return
    when = format_when(call.starts_at, context.services.config.tz)
    more = " Just this one: the weekly calls after it stay booked." if call.weekly else ""
    await ask_yes_no(
        update,
        f"Cancel {reader.first_name}'s call on {when}?{more}",
        Button("Yes, cancel it", ra.confirm_cancel(reader.id, call.id)),
        Button("No, keep it", ra.next_calls(reader.id)),
    )


async def cancel(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    call_id = values[0]
    assert isinstance(call_id, int)
    call = await context.services.readers.cancel_call(reader.id, call_id)
    if call is None:
        await cant_find(update, context)
        return
    when = format_when(call.starts_at, context.services.config.tz)
    await list_calls(update, context, reader, lead=f"Done: I've cancelled the call on {when}.")


async def ask_pause(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    if reader.paused:
        await show_reader(update, context, reader, "Those calls are already paused.")
        return
    await ask_yes_no(
        update,
        f"Pause all of {reader.first_name}'s calls? Booked calls will be cancelled and weekly "
        "calls stopped. You can start again at any time.",
        Button("Yes, pause all calls", ra.confirm_pause(reader.id)),
        Button("No, keep them", ra.reader(reader.id)),
    )


async def do_pause(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    stopped = await context.services.readers.pause(reader.id) if not reader.paused else 0
    cancelled = f" I've cancelled {calls_word(stopped)}." if stopped else ""
    lead = (
        f"Done: {reader.first_name}'s calls are paused.{cancelled} "
        "Tap Start calls again whenever you're ready."
    )
    await show_reader(update, context, await refreshed(context, reader), lead)


async def do_resume(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    await context.services.readers.resume(reader.id)
    lead = f"{reader.first_name}'s calls can start again. Book a call whenever you like."
    await show_reader(update, context, await refreshed(context, reader), lead)


async def ask_different(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    await ask_yes_no(
        update,
        f"Ask for a different volunteer for {reader.first_name}? Their booked calls will go to "
        "someone new, and won't be offered to the current volunteer again.",
        Button("Yes, please", ra.confirm_different_volunteer(reader.id)),
        Button("No, keep things as they are", ra.reader(reader.id)),
    )


async def do_different(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    services = context.services
    moved = await services.readers.different_volunteer(reader.id)
    if moved:
        await match_now(context, "asking for a different volunteer")  # the calls are open again
        tell = "message you when" if reader.contact_person_id else "tell staff when"
        lead = (
            f"Done: I'll look for a different volunteer for {reader.first_name}'s calls, and "
            f"{tell} someone is confirmed."
        )
    else:
        phone = services.config.service.phone
        lead = (
            f"{reader.first_name} has no calls with a volunteer just now, so there's nothing "
            f"to change yet. If something isn't right, please call us on {phone}."
        )
    await show_reader(update, context, reader, lead)


FormAction = Callable[[Update, CuppaContext, ReaderAction], Awaitable[None]]
FORM_ACTIONS: dict[str, FormAction] = {
    "rf:r": start_form,
    "rf:f:m": choose_who,
    "rf:f:o": choose_who,
    "rf:nm": use_my_name,
    "rf:i": toggle_interest,
    "rf:id": interests_done,
    "rf:n": choose_need,
    "rf:q": go_back,
    "rf:c:y": consent_yes,
    "rf:c:n": consent_no,
}
ReaderCallback = Callable[[Update, CuppaContext, ReaderView, tuple[Any, ...]], Awaitable[None]]
READER_ACTIONS: dict[str, ReaderCallback] = {
    "rf:v": show_reader_button,
    "rf:k": choose_day,
    "rf:d": choose_time,
    "rf:t": choose_repeat,
    "rf:o": book_call,
    "rf:e": book_call,
    "rf:l": list_calls,
    "rf:x": ask_cancel,
    "rf:y": cancel,
    "rf:p": ask_pause,
    "rf:py": do_pause,
    "rf:s": do_resume,
    "rf:a": ask_different,
    "rf:ay": do_different,
}

COMMANDS = [("readingfriends", reading_friends_command)]
BUTTONS = [(r"^rf(?::|$)", reading_friends_button)]
TYPED = {FLOW: typed_answer}
