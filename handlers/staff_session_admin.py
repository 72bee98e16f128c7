"""Staff finding a place's sessions, and the router for every "sx:" button: seeing one session,
changing it (the questions are in staff_session_changes), cancelling it, or stopping a weekly one.

Changing, moving or cancelling one tells everyone booked or waiting, once; a weekly session can
also be stopped.

Every entry point is `staff_only`: forged "sx:" data gets the kind refusal and nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot import staff_actions as sa
from bot.clock import format_when
from bot.services.staff_sessions import PlanError
from bot.services.views import Button, Keyboard, SessionView
from bot.wording import people
from handlers.common import expired_button, reply, staff_only
from handlers.context import CuppaContext
from handlers.forms import user_id
from handlers.staff_common import lists, nav, weeks, when_of
from handlers.staff_session_changes import (
    area_chosen,
    ask_again,
    capacity_chosen,
    capacity_question,
    change_arguments,
    change_day_question,
    change_place_question,
    day_chosen,
    library_chosen,
    notes_chosen,
    notes_question,
    online_link_question,
    typed_change_session,
    when_chosen,
)
from handlers.staff_session_view import CHANGE_FLOW, changeable, confirm, show_session

Values = tuple[Any, ...]
SessionAction = Callable[[Update, CuppaContext, Values], Awaitable[None]]


# ---------------------------------------------------------------------------------------------
# The sx: router, and looking through a place's sessions
# ---------------------------------------------------------------------------------------------


@staff_only
async def session_admin_button(update: Update, context: CuppaContext) -> None:
    """Every sx: button: finding a session, and seeing, changing or cancelling one."""
    action = sa.parse(update.callback_query.data)  # type: ignore[union-attr]
    if action is None:
        await expired_button(update, context)
        return
    handler = SESSION_ACTIONS.get(action.kind)
    if handler is None:
        await expired_button(update, context)
        return
    await handler(update, context, action.values)


async def choose_where(update: Update, context: CuppaContext, values: Values = ()) -> None:
    await context.services.dialogs.clear(user_id(update))
    areas = await context.services.libraries.areas()
    keyboard = [[Button(area, sa.area(index))] for index, area in enumerate(areas)]
    keyboard.append([Button("Online", sa.session_list(sa.ONLINE_PLACE))])
    keyboard.append(nav(sa.STAFF_MENU))
    text = "Which sessions would you like to see? Choose the area, or Online."
    await reply(update, text, keyboard, edit=True)


async def choose_library(update: Update, context: CuppaContext, values: Values) -> None:
    areas = await context.services.libraries.areas()
    index = int(values[0])
    if index >= len(areas):
        await expired_button(update, context)
        return
    libraries = await context.services.libraries.in_area(areas[index])
    keyboard = [
        [Button(library.name, sa.session_list(sa.library_place(library.id)))]
        for library in libraries
    ]
    keyboard.append(nav(sa.WHERE))
    await reply(update, f"Which library in {areas[index]}?", keyboard, edit=True)


async def show_list(update: Update, context: CuppaContext, values: Values) -> None:
    """A page of a place's sessions with how many have booked; tap one to see or change it."""
    place, page_number = str(values[0]), int(values[1])
    services = context.services
    library_id = sa.library_of(place)
    back = sa.WHERE
    where = "online"
    if library_id is not None:
        library = await services.libraries.get(library_id)
        if library is None:
            await expired_button(update, context)
            return
        where = f"at {library.name}"
        areas = await services.libraries.areas()
        if library.area in areas:
            back = sa.area(areas.index(library.area))
    found = lists(context)
    page = await found.sessions(library_id, page_number)
    if not page.items:
        keyboard = [[Button("New session", sa.NEW)], nav(back)]
        await reply(update, f"There are no sessions coming up {where}.", keyboard, edit=True)
        return
    weekly = await found.weekly(s.id for s in page.items)
    tz, now = services.config.tz, services.clock()
    blocks = [f"Sessions {where} (page {page.number + 1} of {page.pages}):"]
    keyboard: Keyboard = []
    for number, s in enumerate(page.items, start=page.number * page.size + 1):
        line = (
            f"{number}. {format_when(s.starts_at, tz)} · {s.activity}"
            f"{' (weekly)' if s.id in weekly else ''}: {s.booked} booked, {s.waiting} waiting, "
            f"{s.capacity} places"
        )
        if s.starts_at <= now:
            line += " (started)"
        blocks.append(line)
        label = f"{number}. {format_when(s.starts_at, tz)} · {s.activity}"
        keyboard.append([Button(label, sa.session(s.id))])
    paging = []
    if page.has_previous:
        paging.append(Button("◀ Earlier", sa.session_list(place, page.number - 1)))
    if page.has_next:
        paging.append(Button("Later ▶", sa.session_list(place, page.number + 1)))
    if paging:
        keyboard.append(paging)
    keyboard.append(nav(back))
    text = "\n".join(blocks) + "\n\nTap a session to see it, change it or take attendance."
    await reply(update, text, keyboard, edit=True)


async def view_button(update: Update, context: CuppaContext, values: Values) -> None:
    await show_session(update, context, int(values[0]))


def on_changeable(step: Callable[..., Awaitable[None]], *more: Any) -> SessionAction:
    """An sx: button about one session (its first value): `step` gets the session, if it can
    still be changed, then the button's other values and `more`."""

    async def handler(update: Update, context: CuppaContext, values: Values) -> None:
        view = await changeable(update, context, int(values[0]))
        if view is not None:
            await step(update, context, view, *values[1:], *more)

    return handler


# cancelling and stopping
async def ask_cancel(update: Update, context: CuppaContext, view: SessionView) -> None:
    question = f"Cancel {view.activity} on {when_of(view, context)}?"
    await confirm(
        update, context, view, {"kind": "cancel"}, question, "Yes, cancel it", "No, keep it"
    )


async def ask_stop(update: Update, context: CuppaContext, view: SessionView) -> None:
    sittings = await lists(context).later_sittings(view.id)
    if not sittings:
        await show_session(update, context, view.id, lead="That isn't a weekly session.")
        return
    question = (
        f"Stop the weekly {view.activity}? This one ({when_of(view, context)}) and every "
        f"week after it will be cancelled: {weeks(len(sittings))} open for booking now."
    )
    count = sum(s.booked + s.waiting for s in sittings)
    change = {"kind": "stop", "people": count}
    await confirm(update, context, view, change, question, "Yes, stop it", "No, keep it", count)


async def go_ahead(update: Update, context: CuppaContext, values: Values) -> None:
    """Make the change just confirmed, and say how many people were told."""
    services = context.services
    session_id = int(values[0])
    state = await services.dialogs.get(user_id(update))
    data = state.data if state is not None and state.flow == CHANGE_FLOW else {}
    change = data.get("change")
    if data.get("session_id") != session_id or not isinstance(change, dict):
        lead = "That change has already been made, or was stopped."
        await show_session(update, context, session_id, lead=lead)
        return
    await services.dialogs.clear(user_id(update))
    kind, me = change.get("kind"), user_id(update)
    try:
        if kind == "cancel":
            outcome = await services.admin.cancel(me, session_id)
            lead = f"Done: it's cancelled. {told(outcome.told)}" if outcome else ""
        elif kind == "stop":
            stopped = await services.admin.stop_series(me, session_id)
            lead = ""
            if stopped is not None:
                lead = (
                    f"Done: I've stopped the weekly session and cancelled {weeks(stopped)}. "
                    f"{told(int(change.get('people', 0)))}"
                )
        else:
            outcome = await services.admin.change(me, session_id, **change_arguments(change))
            lead = ""
            if outcome is not None:
                lead = f"Done. {told(outcome.told)}"
                if not outcome.changes:
                    lead = "Nothing needed changing: it was like that already."
    except PlanError as problem:
        view = await changeable(update, context, session_id)
        if view is not None:
            await ask_again(update, context, view, str(kind), str(problem))
        return
    if not lead:
        lead = "Sorry, this session has started or been cancelled, so it can't be changed now."
    await show_session(update, context, session_id, lead=lead)


def told(count: int) -> str:
    return f"I've told {people(count)}." if count else "There was nobody to tell."


SESSION_ACTIONS: dict[str, SessionAction] = {
    "sx:where": choose_where,
    "sx:area": choose_library,
    "sx:list": show_list,
    "sx:view": view_button,
    "sx:day": on_changeable(change_day_question),
    "sx:time": on_changeable(day_chosen),
    "sx:when": on_changeable(when_chosen),
    "sx:place": on_changeable(change_place_question),
    "sx:parea": on_changeable(area_chosen),
    "sx:lib": on_changeable(library_chosen),
    "sx:online": on_changeable(online_link_question),
    "sx:cap": on_changeable(capacity_question),
    "sx:setcap": on_changeable(capacity_chosen, None),
    "sx:notes": on_changeable(notes_question),
    "sx:nonotes": on_changeable(notes_chosen, ""),
    "sx:cancel": on_changeable(ask_cancel),
    "sx:stop": on_changeable(ask_stop),
    "sx:go": go_ahead,
}

COMMANDS: list[tuple[str, object]] = []
BUTTONS = [(r"^sx:", session_admin_button)]
TYPED = {CHANGE_FLOW: typed_change_session}
