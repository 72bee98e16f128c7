"""/help, /privacy and /cancel: what the bot does, what it keeps, and a way out of any flow."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot import actions
from bot.services.views import Button
from handlers.common import MENU_BUTTON, reply, show_menu
from handlers.context import CuppaContext
from handlers.privacy import privacy_command


async def help_command(update: Update, context: CuppaContext) -> None:
    """Say what the bot can do and how to reach a person."""
    person = await context.person()
    service = context.services.config.service
    lines = [
        "I can help you:",
        "• find Just a Cuppa, Knit and Natter, Colour Me Calm, singing and Read My Mind "
        "sessions, at your library or online (/sessions)",
        "• book a place, or join the waiting list when a session is full",
        "• see and cancel your bookings, and add them to your calendar (/mybookings)",
        "",
        "Send /cancel at any time to stop what you're doing, or tap Menu.",
        "",
        f"To talk to a person, call {service.name} on {service.phone}.",
    ]
    if person and person.home_library:
        lines.append(f"{person.home_library.name}: {person.home_library.phone}")
    keyboard = [
        [Button("Find a session", actions.Browse().data())],
        [Button("Privacy", actions.PRIVACY), MENU_BUTTON],
    ]
    await reply(update, "\n".join(lines), keyboard)


async def cancel_command(update: Update, context: CuppaContext) -> None:
    """Leave whatever flow the person is in and go back to the menu."""
    person = await context.person()
    if person is not None and person.awaiting is not None:
        await context.expect(None)
    if update.effective_user is not None:
        await context.services.dialogs.clear(update.effective_user.id)
    await reply(update, "OK, I've stopped that.", markup=ReplyKeyboardRemove())
    await show_menu(update, context, "What would you like to do?")


COMMANDS = [
    ("help", help_command),
    ("privacy", privacy_command),
    ("cancel", cancel_command),
]
BUTTONS = [
    (rf"^{actions.MENU}$", show_menu),
    (rf"^{actions.HELP}$", help_command),
    (rf"^{actions.PRIVACY}$", privacy_command),
]
