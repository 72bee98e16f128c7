"""/readingfriends: the reader's side of Reading Friends. The command, and the router for every
rf button: the home screen, the registration form (readers_register) and a reader's own
buttons (readers_calls).

Every reader id in button data is checked against the person asking (their contact, or staff)
before a reader's button is acted on.
"""

from __future__ import annotations

from telegram import Update

from bot import reader_actions as ra
from bot.reader_actions import ReaderAction
from handlers.common import expired_button, show_menu
from handlers.context import CuppaContext
from handlers.readers_calls import READER_ACTIONS
from handlers.readers_common import cant_find, close_form, show_home
from handlers.readers_register import FORM_ACTIONS, start_staff_form


async def reading_friends_command(update: Update, context: CuppaContext) -> None:
    """/readingfriends, the "reading" words and the menu's button."""
    await show_home(update, context, edit=False)


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


COMMANDS = [("readingfriends", reading_friends_command)]
BUTTONS = [(r"^rf(?::|$)", reading_friends_button)]
