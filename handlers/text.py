"""Free text: an answer to an open question, a word like "tea" or "help", or a place name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.actions import Browse
from bot.services.places import fold
from handlers.bookings import my_bookings
from handlers.common import not_understood, reply, show_menu
from handlers.context import CuppaContext
from handlers.help import cancel_command, help_command, privacy_command
from handlers.places import typed_place
from handlers.sessions import browse, sessions_command

READ_LIMIT = 200

Route = Callable[[Update, CuppaContext], Awaitable[None]]

WORDS: dict[str, Route] = {
    "help": help_command,
    "menu": show_menu,
    "start": show_menu,
    "hello": show_menu,
    "hi": show_menu,
    "cancel": cancel_command,
    "stop": cancel_command,
    "privacy": privacy_command,
    "sessions": sessions_command,
    "session": sessions_command,
    "book": sessions_command,
    "whats on": sessions_command,
    "my bookings": my_bookings,
    "bookings": my_bookings,
}
NOT_YET_IN_BOT = ("reading", "reading friends", "volunteer", "volunteering", "housebound")


def mentions(text: str, phrase: str) -> bool:
    """Whole-word match: "tea" in "a cup of tea please", not in "team"."""
    return f" {phrase} " in f" {text} "


async def text_message(update: Update, context: CuppaContext) -> None:
    """Route typed text to the obvious place, or say kindly that we didn't follow."""
    text = fold((update.effective_message.text or "")[:READ_LIMIT])  # type: ignore[union-attr]
    if not text:
        await not_understood(update, context)
        return
    person = await context.person()
    if person is not None and person.awaiting == "home":
        await typed_place(update, context, text)
        return
    for phrase, route in WORDS.items():
        if text == phrase or (len(phrase.split()) > 1 and mentions(text, phrase)):
            await route(update, context)
            return
    keywords = await context.services.catalogue.activity_keywords()
    for word, activity_id in keywords.items():
        if mentions(text, word):
            await browse(update, context, Browse(activity=str(activity_id)), edit=False)
            return
    if any(mentions(text, word) for word in NOT_YET_IN_BOT):
        phone = context.services.config.service.phone
        await reply(
            update,
            "Reading Friends and volunteering are arranged by phone for now: please call "
            f"{phone} and we'll set it up with you.",
        )
        await show_menu(update, context, "Is there anything else I can help with?")
        return
    if await typed_place(update, context, text):
        return
    if any(mentions(text, word) for word in ("help", "bookings", "sessions")):
        await help_command(update, context)
        return
    await not_understood(update, context)
