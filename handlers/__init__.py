"""Telegram update handlers: thin, one module per flow, registered here in one ordered list."""

from __future__ import annotations

from typing import Any

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import actions
from handlers import bookings, fallbacks, help, places, sessions, start, text
from handlers.common import show_menu

# The bot's menu, as shown in Telegram's command list (order kept).
COMMANDS = [
    ("start", "Start, or go back to the menu"),
    ("sessions", "Find and book a session"),
    ("mybookings", "See or cancel your bookings"),
    ("help", "What I can do, and phone numbers"),
    ("privacy", "What I keep about you"),
    ("cancel", "Stop what you're doing"),
]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler. Within a group the first match wins, so order matters."""
    private = filters.ChatType.PRIVATE
    # Group -1: answer every button press at once, then let group 0 reply.
    application.add_handler(CallbackQueryHandler(fallbacks.answer_button), group=-1)

    buttons = [
        (r"^on:", start.onboarding_button),
        (r"^ss:", sessions.browse_button),
        (r"^nr:", sessions.near_me_button),
        (r"^sv:", sessions.session_button),
        (r"^bk:", sessions.book_button),
        (rf"^{actions.MY_BOOKINGS}$", bookings.my_bookings),
        (r"^cx:", bookings.cancel_button),
        (r"^cy:", bookings.confirm_cancel_button),
        (r"^ic:", bookings.calendar_button),
        (rf"^{actions.MENU}$", show_menu),
        (rf"^{actions.HELP}$", help.help_command),
        (rf"^{actions.PRIVACY}$", help.privacy_command),
        (rf"^{actions.SETTINGS}$", start.settings_button),
    ]
    commands = [
        ("start", start.start_command),
        ("sessions", sessions.sessions_command),
        ("mybookings", bookings.my_bookings),
        ("help", help.help_command),
        ("privacy", help.privacy_command),
        ("cancel", help.cancel_command),
    ]
    handlers = [
        *(CommandHandler(name, callback, filters=private) for name, callback in commands),
        *(CallbackQueryHandler(callback, pattern=pattern) for pattern, callback in buttons),
        CallbackQueryHandler(fallbacks.unknown_button),
        MessageHandler(private & filters.LOCATION, places.location_message),
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, text.text_message),
        MessageHandler(private & filters.COMMAND, fallbacks.unknown_command),
        MessageHandler(private & filters.UpdateType.MESSAGE, fallbacks.other_message),
        MessageHandler(~private & filters.UpdateType.MESSAGE, fallbacks.group_message),
    ]
    application.add_handlers(handlers)
    application.add_error_handler(fallbacks.error_handler)
