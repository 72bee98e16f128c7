"""One session's admin view, and the two steps every change to it passes through: the check
that it can still be changed, and the question that confirms the change and says who will be told.

Kept apart from the router in staff_session_admin because the change questions in
staff_session_changes come back here too. The change form keeps its answers in Dialogs
("change_session"), so a restart or a second bot process carries on.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot import staff_actions as sa
from bot.services.views import Button, Keyboard, SessionView
from bot.wording import people
from handlers.common import expired_button, reply
from handlers.context import CuppaContext
from handlers.forms import joined, user_id
from handlers.staff_common import LEAVE_BUTTON, lists, nav, session_details

CHANGE_FLOW = "change_session"


def place_of(view: SessionView) -> str:
    if view.online or view.library is None:
        return sa.ONLINE_PLACE
    return sa.library_place(view.library.id)


async def show_session(
    update: Update, context: CuppaContext, session_id: int, lead: str = ""
) -> None:
    """One session's admin view, with what can be done to it now (closes any change form)."""
    services = context.services
    await services.dialogs.clear(user_id(update))
    view = await services.catalogue.get(session_id)
    if view is None:
        await expired_button(update, context)
        return
    weekly = bool(await lists(context).weekly([view.id]))
    now = services.clock()
    keyboard: Keyboard = []
    if view.status == "scheduled":
        keyboard.append([Button("People and attendance", sa.attendance(view.id))])
        if view.starts_at > now:
            keyboard += [
                [Button("Change day or time", sa.change_day(view.id))],
                [Button("Change place", sa.change_place(view.id))],
                [Button("Change places", sa.change_capacity(view.id))],
                [Button("Change notes", sa.change_notes(view.id))],
                [Button("Cancel this session", sa.cancel_session(view.id))],
            ]
            if weekly:
                keyboard.append([Button("Stop the weekly session", sa.stop_series(view.id))])
    keyboard.append(nav(sa.session_list(place_of(view))))
    details = session_details(view, weekly, now, services.config.tz)
    await reply(update, joined(lead, details), keyboard, edit=True)


async def changeable(update: Update, context: CuppaContext, session_id: int) -> SessionView | None:
    """The session if it can still be changed; otherwise say why and show it."""
    view = await context.services.catalogue.get(session_id)
    if view is None:
        await expired_button(update, context)
        return None
    if view.status != "scheduled" or view.starts_at <= context.services.clock():
        await show_session(
            update,
            context,
            session_id,
            lead="Sorry, this session has started or been cancelled, so it can't be changed now.",
        )
        return None
    return view


async def set_change_form(
    update: Update, context: CuppaContext, view: SessionView, field: str, **more: Any
) -> None:
    data = {"session_id": view.id, "field": field, **more}
    await context.services.dialogs.set(user_id(update), CHANGE_FLOW, data)


async def confirm(
    update: Update,
    context: CuppaContext,
    view: SessionView,
    change: dict[str, Any],
    question: str,
    yes: str = "Yes, go ahead",
    no: str = "No, leave it",
    count: int | None = None,
) -> None:
    """Ask before changing: say who will be told. The change waits in the dialog."""
    count = view.booked + view.waiting if count is None else count
    if count:
        tell = f"This will tell {people(count)}. Go ahead?"
    else:
        tell = "Nobody has booked yet, so there's nobody to tell. Go ahead?"
    only = ""
    if change["kind"] != "stop" and await lists(context).weekly([view.id]):
        only = "This is one week of a weekly session: only this week changes."
    text = joined(question, only, tell)
    await set_change_form(update, context, view, "confirm", change=change, text=text)
    keyboard = [
        [Button(yes, sa.go_ahead(view.id))],
        [Button(no, sa.session(view.id))],
        [LEAVE_BUTTON],
    ]
    await reply(update, text, keyboard, edit=True)
