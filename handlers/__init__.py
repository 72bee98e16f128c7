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

from handlers import fallbacks, places, text
from handlers.flows import FLOWS

# The bot's menu, as shown in Telegram's command list (order kept).
COMMANDS = [
    ("start", "Start, or go back to the menu"),
    ("sessions", "Find and book a session"),
    ("mybookings", "See or cancel your bookings"),
    ("readingfriends", "Reading Friends phone calls"),
    ("volunteer", "Volunteer with Reading Friends"),
    ("help", "What I can do, and phone numbers"),
    ("privacy", "What I keep about you"),
    ("mydata", "Get a copy of everything I keep about you"),
    ("forgetme", "Delete everything I keep about you"),
    ("cancel", "Stop what you're doing"),
]
# Shown only in staff members' own chats.
STAFF_COMMANDS = [
    ("staff", "The staff menu: sessions, attendance, reports"),
    ("broadcast", "Send a message to a group of people"),
]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler. Within a group the first match wins, so order matters."""
    private = filters.ChatType.PRIVATE
    # Group -1: answer every button press at once, then let group 0 reply.
    application.add_handler(CallbackQueryHandler(fallbacks.answer_button), group=-1)

    commands = [pair for flow in FLOWS for pair in flow.COMMANDS]
    buttons = [pair for flow in FLOWS for pair in flow.BUTTONS]
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
