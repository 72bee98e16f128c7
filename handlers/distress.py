"""Where to get help, for typed text that sounds like distress (checked before anything else).

The phrases are in bot/data/distress_phrases.txt. Staff are told when the person is a Reading
Friends reader or a reader's contact; nobody else's words are kept.
"""

from __future__ import annotations

from telegram import Update

from handlers.common import show_menu
from handlers.context import CuppaContext


def signposting(library_phone: str) -> str:
    return (
        "I'm sorry you're feeling like this. You don't have to face it on your own.\n\n"
        "If you need to talk to someone now:\n"
        "• Samaritans, free, day or night: 116 123\n"
        "• NHS 111 for urgent health help\n"
        "• In an emergency call 999\n\n"
        f"You can also call us on {library_phone}."
    )


async def signpost(update: Update, context: CuppaContext, said: str) -> None:
    """Show where to get help, with the menu; tell staff if the person is a reader."""
    services = context.services
    person = await context.person()
    phone = services.config.service.phone
    if person is not None and person.home_library is not None:
        phone = person.home_library.phone
    text = signposting(phone)
    if person is not None and await services.distress.alert_if_reader(person.id, said):
        text += "\n\nI've let our Reading Friends team know too, so someone can check in on you."
    await show_menu(update, context, text)
