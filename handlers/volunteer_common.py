"""Pieces every volunteering flow shares: the wording and buttons, small date and time helpers,
asking for consent first, leaving, and saving the sign-up form and asking its first question
(the volunteer's screen starts the form for someone new).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from telegram import Update

from bot import volunteer_actions as va
from bot.services.views import Button, Keyboard, PersonView
from bot.services.volunteers import WEEKDAYS
from handlers.common import MENU_BUTTON, reply, show_menu
from handlers.consent import ask_consent
from handlers.context import CuppaContext
from handlers.forms import rows_of, user_id

FLOW = "volunteer"

# In the volunteer's screens Menu also closes any open form, so later typing isn't an answer.
LEAVE_BUTTON = Button("Menu", va.LEAVE)

HOME_BUTTON = Button("My volunteering", va.HOME)

HOME_AND_MENU: Keyboard = [[HOME_BUTTON], [MENU_BUTTON]]

Form = dict[str, Any]  # the sign-up (or change of times) form's answers so far


def nav(back: str | None) -> list[Button]:
    return [Button("Back", back), LEAVE_BUTTON] if back else [LEAVE_BUTTON]


def today(context: CuppaContext) -> date:
    return context.services.clock().astimezone(context.services.config.tz).date()


def hour_text(minute: int) -> str:
    hour, rest = divmod(minute, 60)
    shown = f"{hour % 12 or 12}" + (f":{rest:02d}" if rest else "")
    return shown + ("am" if hour < 12 else "pm")


def checks_run_out(context: CuppaContext, checks_on: date) -> date:
    return checks_on + timedelta(days=context.services.config.reading_friends.checks_valid_days)


async def person_or_consent(update: Update, context: CuppaContext) -> PersonView | None:
    """The speaker's profile; without one, ask for consent first and return None."""
    person = await context.person()
    if person is None:
        await ask_consent(
            update,
            context,
            lead="I'd be glad to tell you about volunteering with Reading Friends. "
            "First, a quick question.",
        )
    return person


async def leave(update: Update, context: CuppaContext) -> None:
    """Close any open form and show the menu."""
    await context.services.dialogs.clear(user_id(update))
    await show_menu(update, context)


async def save(update: Update, context: CuppaContext, form: Form) -> None:
    await context.services.dialogs.set(user_id(update), FLOW, form)


async def ask_day(
    update: Update, context: CuppaContext, form: Form, lead: str = "", edit: bool = True
) -> None:
    buttons = [Button(name, va.day(number)) for number, name in enumerate(WEEKDAYS)]
    back = va.TIMES_SO_FAR if form.get("windows") else None
    if back is None and form.get("mode") == "change":
        back = va.HOME
    keyboard = [*rows_of(buttons, 2), nav(back)]
    question = "Which day of the week are you free to make calls?"
    if form.get("windows"):
        question = "Which other day are you free?"
    await reply(update, f"{lead}\n\n{question}".strip(), keyboard, edit=edit)
