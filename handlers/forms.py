"""What the flows' forms and screens share: who is asking, what they typed or tapped, and the
small pieces their questions are built from."""

from __future__ import annotations

from collections.abc import Callable, Collection

from telegram import Update

from bot.services.places import fold
from bot.services.views import Button, Keyboard

# Typed in place of an answer, any of these closes a form.
LEAVE_WORDS = ("cancel", "stop", "menu", "quit")


def user_id(update: Update) -> int:
    """The Telegram id of whoever sent the update (every update that reaches a flow has one)."""
    user = update.effective_user
    assert user is not None
    return user.id


def typed_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def button_data(update: Update) -> str:
    query = update.callback_query
    return (query.data or "") if query is not None else ""


def joined(*parts: str) -> str:
    """The parts that say something, a blank line apart."""
    return "\n\n".join(part for part in parts if part)


def rows_of(buttons: list[Button], size: int) -> Keyboard:
    """The buttons laid out `size` to a row."""
    return [buttons[n : n + size] for n in range(0, len(buttons), size)]


def tick_boxes(
    options: dict[str, str], chosen: Collection[str], make: Callable[[str], str]
) -> Keyboard:
    """A button for each option (code: label), ticked when chosen, two to a row."""
    buttons = [
        Button(f"✓ {label}" if code in chosen else label, make(code))
        for code, label in options.items()
    ]
    return rows_of(buttons, 2)


def wants_to_leave(text: str, words: tuple[str, ...] = LEAVE_WORDS) -> bool:
    return fold(text) in words
