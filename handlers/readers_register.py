"""Registering a Reading Friends reader (oneself, someone one cares for or refers, or, for staff,
someone without Telegram), one question at a time, and the typed answers to that form.

The form lives in the database (Dialogs flow "rf_register"); the phone number in it is sealed by
the phone vault, never kept in plain text. Its buttons arrive through readers_home's router
(FORM_ACTIONS); the typed answers through TYPED.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot import actions
from bot import reader_actions as ra
from bot.reader_actions import ReaderAction
from bot.services.people import NAME_LIMIT, clean_name
from bot.services.phones import PhoneKeyError, uk_number
from bot.services.readers import INTERESTS, NEEDS_LIMIT, ReaderError
from bot.services.views import Button, Keyboard
from handlers.common import MENU_BUTTON, expired_button, reply, show_menu, staff_only
from handlers.context import CuppaContext
from handlers.forms import joined, tick_boxes, typed_text, user_id, wants_to_leave
from handlers.readers_common import FLOW, close_form, show_home

log = logging.getLogger(__name__)

# On the form, "Menu" also closes it, so later typing isn't taken for an answer.
LEAVE_BUTTON = Button("Menu", ra.LEAVE)

FIRST_NAME_LONGEST = 40

MAX_PHONE_TYPED = 40

PHONE_HINT = "Please type it like 01603 774774 or 07400 123456."

LEAVE_WORDS = ("menu", "cancel", "stop")


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

COMMANDS: list[tuple[str, object]] = []
BUTTONS: list[tuple[str, object]] = []
TYPED = {FLOW: typed_answer}
