"""A volunteer's calls: accepting or declining an offer, their calls, logging how a call went, and
the typed note about a call that worried them (Dialogs flow "call_concern"), passed to staff.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot import actions
from bot import volunteer_actions as va
from bot.clock import format_when
from bot.services.calls import Accepted, VolunteerCall, interests_text, log_keyboard
from bot.services.views import Button
from handlers.common import MENU_BUTTON, reply
from handlers.context import CuppaContext
from handlers.forms import button_data, typed_text, user_id
from handlers.volunteer_common import HOME_AND_MENU, LEAVE_BUTTON, leave, nav

CONCERN_FLOW = "call_concern"

GONE = "That offer has already been taken or has expired. Thank you anyway."

NOT_YOURS_TO_LOG = "That call has already been logged, or isn't one of yours. Thank you anyway."


async def my_calls(update: Update, context: CuppaContext, person_id: int) -> None:
    """The volunteer's calls: the number only around each call; how did it go, afterwards."""
    calls = await context.services.calls.volunteer_calls(person_id)
    tz = context.services.config.tz
    now = context.services.clock()
    if not calls:
        await reply(
            update,
            "You have no calls booked just now. I'll send you offers that fit your times.",
            [nav(va.HOME)],
            edit=True,
        )
        return
    blocks, keyboard = [], []
    for number, call in enumerate(calls, start=1):
        lines = [f"{number}. {format_when(call.starts_at, tz)}: {call.reader_name}"]
        if call.logged:
            lines.append("Logged, thank you.")
        elif call.phone:
            lines.append(f"Phone: {call.phone}")
        if call.needs and not call.logged:
            lines.append(f"Needs: {call.needs}")
        blocks.append("\n".join(lines))
        if not call.logged and call.starts_at <= now:
            label = f"How did it go? ({number}. {call.reader_name})"
            keyboard.append([Button(label, va.how_did_it_go(call.id))])
    keyboard.append(nav(va.HOME))
    await reply(update, "Your calls:\n\n" + "\n\n".join(blocks), keyboard, edit=True)


async def call_to_log(context: CuppaContext, person_id: int, call_id: int) -> VolunteerCall | None:
    """One of this volunteer's calls that has started and is not logged yet."""
    calls = await context.services.calls.volunteer_calls(person_id)
    call = next((c for c in calls if c.id == call_id), None)
    if call is None or call.logged or call.starts_at > context.services.clock():
        return None
    return call


async def ask_how_it_went(
    update: Update, context: CuppaContext, person_id: int, call_id: int
) -> None:
    call = await call_to_log(context, person_id, call_id)
    if call is None:
        await reply(update, NOT_YOURS_TO_LOG, [nav(va.MY_CALLS)], edit=True)
        return
    when = format_when(call.starts_at, context.services.config.tz)
    keyboard = [*log_keyboard(call.id, call.reader_name), nav(va.MY_CALLS)]
    await reply(update, f"How did your call with {call.reader_name} on {when} go?", keyboard)


async def offer_button(update: Update, context: CuppaContext) -> None:
    """Accept or decline a call offer (oa:, od:); anything not one's own is simply gone."""
    parsed = va.parse_answer(button_data(update))
    person = await context.person()
    if parsed is None or person is None:
        await reply(update, GONE, [[MENU_BUTTON]], edit=True)
        return
    accept, offer_id = parsed
    outcome = await context.services.calls.answer(person.id, offer_id, accept)
    if isinstance(outcome, Accepted):
        await reply(
            update,
            accepted_text(context, outcome),
            [[Button("My calls", va.MY_CALLS)], [MENU_BUTTON]],
            edit=True,
        )
    elif outcome == "declined":
        await reply(
            update,
            "Thank you for letting me know. I'll offer that call to another volunteer.",
            HOME_AND_MENU,
            edit=True,
        )
        await context.services.calls.run_matching()
    else:
        await reply(update, GONE, HOME_AND_MENU, edit=True)


def accepted_text(context: CuppaContext, call: Accepted) -> str:
    now = context.services.clock()
    lines = [
        f"Thank you! You're calling {call.reader_name} on "
        f"{format_when(call.starts_at, context.services.config.tz)}.",
        f"Their number: {call.phone}",
        f"Likes: {interests_text(call.interests)}",
    ]
    if call.needs:
        lines.append(f"Needs: {call.needs}")
    reminder = (
        "I'll send you a reminder an hour before, and afterwards I'll ask how it went."
        if call.starts_at - timedelta(hours=1) > now
        else "Afterwards I'll ask how it went."
    )
    lines += ["", f"{reminder} Please keep their number to yourself."]
    return "\n".join(lines)


async def log_button(update: Update, context: CuppaContext) -> None:
    """How a call went (lg:d, lg:n, lg:w): worried asks for a note first."""
    parsed = va.parse_log(button_data(update))
    person = await context.person()
    if parsed is None or person is None:
        await reply(update, NOT_YOURS_TO_LOG, [[MENU_BUTTON]], edit=True)
        return
    outcome, call_id = parsed
    if outcome == "concern":
        await ask_concern(update, context, person.id, call_id)
        return
    name = await context.services.calls.log(person.id, call_id, outcome)
    if name is None:
        await reply(update, NOT_YOURS_TO_LOG, HOME_AND_MENU, edit=True)
    elif outcome == "done":
        await reply(
            update,
            f"Thank you! I'm glad your call with {name} went well.",
            HOME_AND_MENU,
            edit=True,
        )
    else:
        await reply(
            update,
            f"Thanks — we'll keep an eye on {name}. If they miss the next call too, library staff "
            "will check they're all right.",
            HOME_AND_MENU,
            edit=True,
        )


async def ask_concern(update: Update, context: CuppaContext, person_id: int, call_id: int) -> None:
    call = await call_to_log(context, person_id, call_id)
    if call is None:
        await reply(update, NOT_YOURS_TO_LOG, HOME_AND_MENU, edit=True)
        return
    await context.services.dialogs.set(user_id(update), CONCERN_FLOW, {"call": call.id})
    name = call.reader_name
    await reply(
        update,
        f"I'm sorry to hear that. Please type a few words about what worried you about {name}, "
        "and I'll pass them straight to library staff.\n\n"
        f"If you think {name} is in danger right now, please call 999.",
        [[Button("Tell staff without a note", va.no_note(call.id))], [LEAVE_BUTTON]],
        edit=True,
    )


async def typed_concern(update: Update, context: CuppaContext) -> None:
    """The volunteer's note about a call that worried them: staff are told at once."""
    dialog = await context.services.dialogs.get(user_id(update))
    person = await context.person()
    call_id = actions.plain_number(str((dialog.data if dialog else {}).get("call", "")))
    if person is None or call_id is None:
        await leave(update, context)
        return
    await log_concern(update, context, person.id, call_id, typed_text(update))


async def log_concern(
    update: Update, context: CuppaContext, person_id: int, call_id: int, note: str
) -> None:
    await context.services.dialogs.clear(user_id(update))
    name = await context.services.calls.log(person_id, call_id, "concern", note)
    edit = update.callback_query is not None
    if name is None:
        phone = context.services.config.service.phone
        await reply(
            update,
            "That call has already been logged. If you're still worried, please call us on "
            f"{phone}.",
            HOME_AND_MENU,
            edit=edit,
        )
        return
    await reply(
        update,
        f"Thank you. I've told library staff about {name}, and they'll follow it up today.",
        HOME_AND_MENU,
        edit=edit,
    )


COMMANDS: list[tuple[str, object]] = []
BUTTONS = [
    (r"^o[ad]:", offer_button),
    (r"^lg:", log_button),
]
TYPED = {CONCERN_FLOW: typed_concern}
