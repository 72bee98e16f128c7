"""Anything no other handler took, and the error handler: always a kind reply, never silence."""

from __future__ import annotations

import logging

from telegram import Update

from handlers.common import expired_button, reply, show_menu
from handlers.context import CuppaContext

log = logging.getLogger(__name__)


async def answer_button(update: Update, context: CuppaContext) -> None:
    """Stop the button's spinner straight away; the handler that follows replies."""
    await update.callback_query.answer()  # type: ignore[union-attr]


async def unknown_button(update: Update, context: CuppaContext) -> None:
    """Stale, forged or garbled button data."""
    await expired_button(update, context)


async def unknown_command(update: Update, context: CuppaContext) -> None:
    await show_menu(update, context, "Sorry, I don't know that command. Here's what I can do:")


async def other_message(update: Update, context: CuppaContext) -> None:
    """Stickers, photos, voice notes and the like."""
    await show_menu(
        update,
        context,
        "Sorry, I can only read typed messages and buttons. What would you like to do?",
    )


async def group_message(update: Update, context: CuppaContext) -> None:
    """The bot serves people one to one; it does not take part in group chats."""
    if update.effective_message is not None and update.effective_message.text:
        await reply(update, "Please message me directly, so your bookings stay private.")


async def error_handler(update: object, context: CuppaContext) -> None:
    """Log what went wrong with its traceback, and tell the person something kind."""
    log.error("error handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        phone = context.services.config.service.phone
        try:
            await update.effective_chat.send_message(
                "Sorry, something went wrong on our side. Please try again in a moment, "
                f"or call us on {phone}."
            )
        except Exception:  # the network may be what failed: the log already has the cause
            log.warning("could not tell the person about the error", exc_info=True)
