"""Staff approving a new volunteer (with the typed date of their checks: Dialogs flow
"approve_volunteer") or rejecting them.
"""

from __future__ import annotations

from telegram import Update

from bot import actions
from bot import volunteer_actions as va
from bot.services.views import Button, VolunteerView
from handlers.common import MENU_BUTTON, reply, show_menu, staff_only
from handlers.context import CuppaContext
from handlers.forms import button_data, typed_text, user_id, wants_to_leave
from handlers.volunteer_common import LEAVE_BUTTON, checks_run_out, leave, today

APPROVE_FLOW = "approve_volunteer"


@staff_only
async def staff_button(update: Update, context: CuppaContext) -> None:
    """Approve (va:) or reject (vr:, then vr:<id>:y) a new volunteer."""
    parsed = va.parse_staff(button_data(update))
    volunteer = await context.services.volunteers.get(parsed[1]) if parsed else None
    if parsed is None or volunteer is None:
        await staff_reply(update, "Sorry, I couldn't find that volunteer.")
        return
    verb, _, confirmed = parsed
    if volunteer.status == "rejected":
        await staff_reply(update, f"{volunteer.first_name} has already been turned down.")
    elif verb == "a":
        await ask_checks_date(update, context, volunteer)
    elif volunteer.status != "pending":
        await staff_reply(update, f"{volunteer.first_name} has already been approved.")
    elif not confirmed:
        keyboard = [
            [Button("Yes, reject", va.confirm_reject(volunteer.id))],
            [Button("Approve instead", actions.approve_volunteer(volunteer.id)), MENU_BUTTON],
        ]
        await reply(
            update,
            f"Reject {volunteer.first_name}'s offer to volunteer? I'll thank them and give them "
            "our phone number to talk about it.",
            keyboard,
        )
    else:
        await context.services.volunteers.reject(user_id(update), volunteer.id)
        await staff_reply(update, f"Done. I've let {volunteer.first_name} know.", edit=True)


async def staff_reply(update: Update, text: str, edit: bool = False) -> None:
    keyboard = [[Button("Staff menu", actions.STAFF_MENU), MENU_BUTTON]]
    await reply(update, text, keyboard, edit=edit)


async def ask_checks_date(update: Update, context: CuppaContext, volunteer: VolunteerView) -> None:
    await context.services.dialogs.set(
        user_id(update), APPROVE_FLOW, {"volunteer": volunteer.id, "name": volunteer.first_name}
    )
    lead = ""
    if volunteer.status == "approved" and volunteer.checks_on is not None:
        lead = (
            f"{volunteer.first_name} is already approved, with checks dated "
            f"{volunteer.checks_on:%d/%m/%Y}. To record new checks: "
        )
    await reply(
        update,
        f"{lead}When were {volunteer.first_name}'s checks (including the DBS check) done? "
        f"Please type the date, like {today(context):%d/%m/%Y}.",
        [[LEAVE_BUTTON]],
    )


async def typed_checks_date(update: Update, context: CuppaContext) -> None:
    """Staff type the date of a volunteer's checks: approve them."""
    if not context.is_staff:
        await context.services.dialogs.clear(user_id(update))
        await show_menu(
            update, context, "Sorry, that's only for library staff. What would you like to do?"
        )
        return
    text = typed_text(update)
    dialog = await context.services.dialogs.get(user_id(update))
    volunteer_id = actions.plain_number(str((dialog.data if dialog else {}).get("volunteer", "")))
    if wants_to_leave(text) or volunteer_id is None:
        await leave(update, context)
        return
    name = str((dialog.data if dialog else {}).get("name", "them"))
    checks_on = va.parse_typed_date(text)
    first = today(context)
    valid_days = context.services.config.reading_friends.checks_valid_days
    lasting = f"{valid_days // 365} years" if valid_days % 365 == 0 else f"{valid_days} days"
    problem = None
    if checks_on is None:
        problem = "Sorry, I couldn't read that date. Please type it like 03/11/2026 or 2026-11-03."
    elif checks_on > first:
        problem = (
            "That date is still to come. Please type the day the checks were done, like "
            f"{first:%d/%m/%Y}."
        )
    elif checks_run_out(context, checks_on) <= first:
        problem = (
            f"Checks done then have run out (they last {lasting}). Please type a more recent "
            f"date, or ask {name} to renew their checks first."
        )
    if problem is not None:
        await reply(update, problem, [[LEAVE_BUTTON]])
        return
    assert checks_on is not None
    approved = await context.services.volunteers.approve(user_id(update), volunteer_id, checks_on)
    await context.services.dialogs.clear(user_id(update))
    if approved is None:
        await staff_reply(
            update, f"Sorry, I couldn't approve {name}: they may have been turned down."
        )
        return
    await staff_reply(update, f"Approved. I've let {approved.first_name} know.")


COMMANDS: list[tuple[str, object]] = []
BUTTONS = [(r"^v[ar]:", staff_button)]
TYPED = {APPROVE_FLOW: typed_checks_date}
