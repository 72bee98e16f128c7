"""Reading Friends pieces every reader flow shares: the home screen (what it is, the person's
readers), a reader's card and their call lines, and small helpers (matching at once, "can't find").

Kept apart from the button router in readers_home so that registering and booking can show
these screens without importing the router.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot import actions
from bot import reader_actions as ra
from bot.clock import format_when
from bot.services.views import Button, CallView, Keyboard, ReaderView
from handlers.common import MENU_BUTTON, reply
from handlers.consent import ask_consent
from handlers.context import CuppaContext
from handlers.forms import joined, user_id

log = logging.getLogger(__name__)

FLOW = "rf_register"

ABOUT = (
    "Reading Friends: a friendly volunteer phones for a chat, or to read aloud (stories, poems, "
    "the news), just once or every week.\n"
    "It's free, for anyone who finds it hard to get out, and you can book calls for yourself "
    "or for someone you care for."
)


def calls_word(count: int) -> str:
    return f"{count} booked call{'s' if count != 1 else ''}"


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


async def acting_staff(context: CuppaContext, reader: ReaderView) -> int | None:
    """The staff member's Telegram id when staff act for a reader who is not theirs (for the
    audit trail); None when the reader or their own contact acts."""
    if context.staff_id is None:
        return None
    person = await context.person()
    if person is not None and person.id == reader.contact_person_id:
        return None
    return context.staff_id


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
