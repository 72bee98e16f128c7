"""Free text: an answer to an open question, a word like "tea" or "help", or a place name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from telegram import Update

from bot.actions import Browse
from bot.services.distress import signals_distress
from bot.services.places import fold
from handlers.bookings import my_bookings
from handlers.common import not_understood, show_menu
from handlers.context import CuppaContext
from handlers.distress import signpost
from handlers.flows import typed_routes
from handlers.help import cancel_command, help_command, privacy_command
from handlers.places import typed_place
from handlers.readers_home import reading_friends_command
from handlers.sessions import browse, sessions_command
from handlers.start import ask_home
from handlers.volunteer_calls import CONCERN_FLOW
from handlers.volunteer_home import volunteer_command

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
VOLUNTEER_WORDS = ("volunteer", "volunteering")
READING_WORDS = ("reading", "reading friends", "housebound")


def mentions(text: str, phrase: str) -> bool:
    """Whole-word match: "tea" in "a cup of tea please", not in "team"."""
    return f" {phrase} " in f" {text} "


async def text_message(update: Update, context: CuppaContext) -> None:
    """Route typed text to the obvious place, or say kindly that we didn't follow."""
    dialog = await context.services.dialogs.get(update.effective_user.id)  # type: ignore[union-attr]
    # Words of distress come first, even in a form (but not staff writing a form: a broadcast
    # may well be about loneliness).
    said = update.effective_message.text or ""  # type: ignore[union-attr]
    # Nor a volunteer's note about a reader who worried them: that goes to staff as written.
    writing_for_others = dialog is not None and (context.is_staff or dialog.flow == CONCERN_FLOW)
    if not writing_for_others and signals_distress(said):
        await signpost(update, context, said)
        return
    # An open form takes any text, even "👍" or "..." (a broadcast may be just that).
    if dialog is not None and dialog.flow in typed_routes():
        await typed_routes()[dialog.flow](update, context)
        return
    text = fold((update.effective_message.text or "")[:READ_LIMIT])  # type: ignore[union-attr]
    if not text:
        await not_understood(update, context)
        return
    person = await context.person()
    awaiting = person.awaiting if person else None
    libraries = await context.services.libraries.search(text)
    if libraries and awaiting == "home":
        await typed_place(update, context, libraries)
        return
    route = await word_route(context, text)
    if route is not None:
        if person is not None and awaiting is not None:
            await context.expect(None)
        await route(update, context)
    elif libraries:
        await typed_place(update, context, libraries)
    elif awaiting == "home":
        await ask_home(update, context, lead="Sorry, I couldn't find a library by that name.")
    else:
        await not_understood(update, context)


async def word_route(context: CuppaContext, text: str) -> Route | None:
    """Where a word or phrase the person typed leads, if anywhere."""
    for phrase, route in WORDS.items():
        if text == phrase or (len(phrase.split()) > 1 and mentions(text, phrase)):
            return route
    for word, activity_id in (await context.services.catalogue.activity_keywords()).items():
        if mentions(text, word):
            return partial(browse_activity, activity_id=activity_id)
    if any(mentions(text, word) for word in VOLUNTEER_WORDS):
        return volunteer_command
    if any(mentions(text, word) for word in READING_WORDS):
        return reading_friends_command
    if any(mentions(text, word) for word in ("help", "bookings", "sessions")):
        return help_command
    return None


async def browse_activity(update: Update, context: CuppaContext, activity_id: int) -> None:
    await browse(update, context, Browse(activity=str(activity_id)), edit=False)
