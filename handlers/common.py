"""What every flow shares: turning plain buttons into Telegram's, replying, and the menu."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest

from bot import actions
from bot.services.views import Button, Keyboard
from bot.telegram.markup import inline_markup
from handlers.context import CuppaContext

log = logging.getLogger(__name__)

Callback = Callable[[Update, CuppaContext], Awaitable[None]]

MENU_BUTTON = Button("Menu", actions.MENU)


def menu_keyboard(staff: bool = False) -> Keyboard:
    """The main menu; staff also get their own menu's button."""
    keyboard = [
        [Button("Find a session", actions.Browse().data())],
        [Button("My bookings", actions.MY_BOOKINGS)],
        [Button("Reading Friends", actions.READING_FRIENDS)],
        [Button("My library and settings", actions.SETTINGS), Button("Help", actions.HELP)],
        [Button("Volunteer", actions.VOLUNTEER)],
    ]
    if staff:
        keyboard.append([Button("Staff menu", actions.STAFF_MENU)])
    return keyboard


async def reply(
    update: Update,
    text: str,
    keyboard: Keyboard | None = None,
    *,
    edit: bool = False,
    markup: ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None,
) -> None:
    """Answer the person: edit the message a button was on (edit=True) or send a new one."""
    query = update.callback_query
    inline = inline_markup(keyboard)
    if edit and query is not None and query.message is not None and markup is None:
        try:
            await query.edit_message_text(text, reply_markup=inline)
            return
        except BadRequest as exc:
            if "not modified" in str(exc):
                return
            log.info("could not edit a message, sending a new one: %s", exc)
    # A button on a message too old to reach still names its user: their private chat.
    chat = update.effective_chat or update.effective_user
    if chat is not None:
        await update.get_bot().send_message(chat.id, text, reply_markup=markup or inline)


async def show_menu(update: Update, context: CuppaContext, text: str | None = None) -> None:
    person = await context.person()
    if text is None:
        name = f", {person.first_name}" if person and person.first_name else ""
        text = f"Hello{name}. What would you like to do?"
    await reply(update, text, menu_keyboard(context.is_staff))


async def not_understood(update: Update, context: CuppaContext) -> None:
    """The kind answer to anything we could not make sense of: say so, offer the menu."""
    phone = context.services.config.service.phone
    await show_menu(
        update,
        context,
        "Sorry, I didn't understand that. Please choose from the buttons below, "
        f"or call us on {phone} and we'll help.",
    )


async def expired_button(update: Update, context: CuppaContext) -> None:
    await show_menu(
        update, context, "Sorry, that button no longer works. Here's the menu to start again."
    )


def staff_only(callback: Callback) -> Callback:
    """Refuse staff actions to anyone not named as staff in the configuration, changing
    nothing (a forged button or a typed /staff gets the same kind refusal)."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: CuppaContext) -> None:
        if not context.is_staff:
            await show_menu(
                update, context, "Sorry, that's only for library staff. What would you like to do?"
            )
            return
        await callback(update, context)

    return guarded


def back_and_menu(back: str) -> list[Button]:
    return [Button("Back", back), MENU_BUTTON]
