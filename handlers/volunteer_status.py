"""The volunteer's own screen: their status (waiting, approved, checks run out, paused), their
times and likes, and what they can do next; or, for someone not yet signed up, the sign-up form.

Kept apart from the router in volunteer_home because the sign-up form returns here too.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot import volunteer_actions as va
from bot.clock import format_day
from bot.services.calls import interests_text
from bot.services.views import Button, Keyboard, VolunteerView
from bot.services.volunteers import window_text
from handlers.common import MENU_BUTTON, reply
from handlers.context import CuppaContext
from handlers.forms import user_id
from handlers.volunteer_common import Form, ask_day, checks_run_out, person_or_consent, save, today

EXPLANATION = (
    "Reading Friends volunteers phone someone who is housebound, for a chat or to read to "
    "them, at times that suit you.\n"
    "Tell me when you're free each week; library staff then check a few things (including a "
    "DBS check) before your first call."
)


async def show_home(update: Update, context: CuppaContext, edit: bool = True) -> None:
    person = await person_or_consent(update, context)
    if person is None:
        return
    volunteer = await context.services.volunteers.by_person(person.id)
    if volunteer is None:
        form: Form = {"mode": "register", "windows": []}
        await save(update, context, form)
        await ask_day(update, context, form, EXPLANATION, edit)
        return
    await context.services.dialogs.clear(user_id(update))
    keyboard: Keyboard = []
    if volunteer.status != "rejected":
        keyboard += [
            [Button("My calls", va.MY_CALLS)],
            [Button("Change my times", va.CHANGE_TIMES)],
        ]
        if is_paused(context, volunteer):
            keyboard.append([Button("Start again", va.RESUME)])
        else:
            keyboard.append([Button("Pause for a holiday", va.PAUSE)])
    keyboard.append([MENU_BUTTON])
    await reply(update, status_text(context, volunteer), keyboard, edit=edit)


def is_paused(context: CuppaContext, volunteer: VolunteerView) -> bool:
    return volunteer.paused_until is not None and volunteer.paused_until >= today(context)


def status_text(context: CuppaContext, volunteer: VolunteerView) -> str:
    phone = context.services.config.service.phone
    if volunteer.status == "rejected":
        return (
            "Thank you for offering to volunteer with Reading Friends. We can't take you on "
            f"just now; please call {phone} if you'd like to talk about it."
        )
    if volunteer.status == "pending":
        status = (
            "Waiting for approval: library staff are checking a few things (including a DBS "
            "check) and will let you know."
        )
    elif volunteer.checks_on is None or checks_run_out(context, volunteer.checks_on) <= today(
        context
    ):
        status = (
            "Your volunteer checks (DBS) have run out, so I can't offer you new calls. "
            f"Please call {phone} to renew them."
        )
    else:
        status = "Approved: I'll offer you calls that fit your times."
    if is_paused(context, volunteer):
        assert volunteer.paused_until is not None
        status += f"\nPaused until {format_day(volunteer.paused_until + timedelta(days=1))}."
    times = "\n".join(f"• {window_text(w)}" for w in volunteer.windows) or "• none yet"
    calls = "call" if volunteer.calls_per_week == 1 else "calls"
    return (
        f"Your Reading Friends volunteering\n{status}\n\nYour times each week:\n{times}\n"
        f"Up to {volunteer.calls_per_week} {calls} a week. "
        f"Likes: {interests_text(volunteer.interests)}."
    )
