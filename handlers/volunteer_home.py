"""/volunteer: the command, the router for every vo button (the volunteer's screen, the sign-up
form, their calls, pausing), and pausing for a holiday (a typed date: Dialogs flow
"volunteer_pause").
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from telegram import Update

from bot import volunteer_actions as va
from bot.clock import add_months, format_day
from bot.services.views import Button, Keyboard
from handlers.common import expired_button, reply
from handlers.context import CuppaContext
from handlers.forms import button_data, typed_text, user_id, wants_to_leave
from handlers.volunteer_calls import ask_how_it_went, log_concern, my_calls
from handlers.volunteer_common import (
    HOME_AND_MENU,
    ask_day,
    leave,
    nav,
    person_or_consent,
    save,
    today,
)
from handlers.volunteer_register import FORM_STEPS, open_form
from handlers.volunteer_status import show_home

PAUSE_FLOW = "volunteer_pause"

FURTHEST_PAUSE = timedelta(days=365)


async def volunteer_command(update: Update, context: CuppaContext) -> None:
    """Show someone their volunteering, or how to sign up: /volunteer."""
    await show_home(update, context, edit=False)


async def volunteer_button(update: Update, context: CuppaContext) -> None:
    """Every vo button: the volunteer's screen, the sign-up form, calls, pausing."""
    action = va.parse(button_data(update))
    if action is None:
        await expired_button(update, context)
        return
    if action.verb == "x":
        await leave(update, context)
        return
    if action.verb == "":
        await show_home(update, context)
        return
    person = await person_or_consent(update, context)
    if person is None:
        return
    if action.verb in FORM_STEPS:
        form = await open_form(update, context)
        if form is None:
            await expired_button(update, context)
        else:
            await FORM_STEPS[action.verb](update, context, form, action.value)
        return
    volunteer = await context.services.volunteers.by_person(person.id)
    if volunteer is None:
        await show_home(update, context)
    elif action.verb == "m":
        await my_calls(update, context, person.id)
    elif action.verb == "h":
        await ask_how_it_went(update, context, person.id, int(action.value or 0))
    elif action.verb == "n":
        await log_concern(update, context, person.id, int(action.value or 0), "")
    elif action.verb == "t":
        form = {"mode": "change", "windows": []}
        await save(update, context, form)
        await ask_day(update, context, form, "Let's set your times again.")
    elif action.verb == "p":
        await pause(update, context, person.id, action.value)
    else:  # "r"
        await context.services.volunteers.pause(person.id, None)
        await reply(
            update,
            "Welcome back! I'll start offering you calls again.",
            HOME_AND_MENU,
            edit=True,
        )
        await context.services.calls.run_matching()


def back_dates(context: CuppaContext) -> dict[str, tuple[str, date]]:
    now = today(context)
    return {
        "1w": ("In 1 week", now + timedelta(days=7)),
        "2w": ("In 2 weeks", now + timedelta(days=14)),
        "1m": ("In a month", add_months(now, 1)),
    }


async def pause(update: Update, context: CuppaContext, person_id: int, choice: Any) -> None:
    """Ask when calls should start again, or pause until the date chosen."""
    choices = back_dates(context)
    if choice is None:
        await context.services.dialogs.clear(user_id(update))
        keyboard: Keyboard = [
            [Button(f"{label} ({format_day(back)})", va.pause_for(code))]
            for code, (label, back) in choices.items()
        ]
        keyboard += [[Button("Type a date", va.pause_for(va.TYPE_DATE))], nav(va.HOME)]
        await reply(update, "When would you like calls to start again?", keyboard, edit=True)
    elif choice == va.TYPE_DATE:
        await context.services.dialogs.set(user_id(update), PAUSE_FLOW, {})
        await reply(
            update,
            "Please type the date you'd like calls to start again, like "
            f"{(today(context) + timedelta(days=21)):%d/%m/%Y}.",
            [nav(va.PAUSE)],
            edit=True,
        )
    else:
        await pause_until(update, context, person_id, choices[choice][1])


async def pause_until(update: Update, context: CuppaContext, person_id: int, back: date) -> None:
    await context.services.dialogs.clear(user_id(update))
    # The service pauses through `paused_until`; calls start again the day after.
    await context.services.volunteers.pause(person_id, back - timedelta(days=1))
    phone = context.services.config.service.phone
    await reply(
        update,
        f"Paused until {format_day(back)}: I won't offer you new calls before then. Enjoy your "
        f"break! Calls you've already accepted still stand; if you can't make one, please call "
        f"{phone}.",
        HOME_AND_MENU,
        edit=update.callback_query is not None,
    )


async def typed_pause_date(update: Update, context: CuppaContext) -> None:
    """The date calls start again, typed."""
    text = typed_text(update)
    if wants_to_leave(text):
        await leave(update, context)
        return
    person = await context.person()
    volunteer = await context.services.volunteers.by_person(person.id) if person else None
    if person is None or volunteer is None:
        await leave(update, context)
        return
    back = va.parse_typed_date(text)
    first = today(context)
    example = f"{(first + timedelta(days=21)):%d/%m/%Y}"
    problem = None
    if back is None:
        problem = f"Sorry, I couldn't read that date. Please type it like {example}."
    elif back <= first:
        problem = f"That date has already come. Please type a date after today, like {example}."
    elif back > first + FURTHEST_PAUSE:
        problem = "That's more than a year away. Please type a date within the next year."
    if problem is not None:
        await reply(update, problem, [nav(va.PAUSE)])
        return
    assert back is not None
    await pause_until(update, context, person.id, back)


COMMANDS = [("volunteer", volunteer_command)]
BUTTONS = [(r"^vo(:|$)", volunteer_button)]
TYPED = {PAUSE_FLOW: typed_pause_date}
