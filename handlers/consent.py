"""The privacy notice and the question of consent: nothing is kept about anyone before a Yes."""

from __future__ import annotations

from telegram import Update

from bot import actions
from bot.services.views import Button
from handlers.common import reply
from handlers.context import CuppaContext

WELCOME = (
    "Hello! I'm Cuppa, the Norfolk Libraries bot. I can help you find and book Just a Cuppa "
    "and other friendly sessions, at your library or online."
)


def short_notice(phone: str) -> str:
    return (
        "Before we start: to book you places and remind you of them, I keep your first name, "
        "your Telegram account, your bookings and, if you tell me, your nearest library. "
        "Library staff can see your bookings. Nothing is shared with anyone else, and you can "
        f"ask us to delete it all at any time (send /forgetme, or call {phone}).\n\nIs that OK?"
    )


async def ask_consent(
    update: Update, context: CuppaContext, session_id: int | None = None, lead: str = WELCOME
) -> None:
    """Show the short notice with Yes / No; with a session id, Yes goes on to book it."""
    if session_id is not None:
        lead = "I'd be glad to book that for you."
    keyboard = [
        [Button("Yes, that's fine", actions.consent_yes(session_id))],
        [Button("No thanks", actions.CONSENT_NO), Button("Tell me more", actions.PRIVACY)],
    ]
    await reply(
        update, f"{lead}\n\n{short_notice(context.services.config.service.phone)}", keyboard
    )
