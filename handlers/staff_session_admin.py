"""Staff finding a place's sessions, a session's admin view, and changing or cancelling one.

Changing, moving or cancelling one tells everyone booked or waiting, once; a weekly session can
also be stopped.

Every entry point is `staff_only`: forged "sx:" data gets the kind refusal and nothing changes.
The change form keeps its answers in Dialogs ("change_session"), so a restart or a second bot
process carries on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, time
from typing import Any

from telegram import Update

from bot import staff_actions as sa
from bot.clock import at_local, format_day, format_when
from bot.services.staff_sessions import PlanError
from bot.services.views import Button, Keyboard, LibraryView, SessionView
from bot.wording import people
from handlers.common import expired_button, reply, staff_only
from handlers.context import CuppaContext
from handlers.forms import joined, typed_text, user_id, wants_to_leave
from handlers.staff_common import (
    LEAVE_BUTTON,
    PLACES,
    TAP_A_BUTTON,
    check_capacity,
    check_day,
    check_link,
    check_notes,
    check_start,
    day_buttons,
    lists,
    local_now,
    nav,
    read_capacity,
    session_details,
    time_buttons,
    time_label,
    weeks,
    when_of,
)
from handlers.staff_menu import show_staff_menu

CHANGE_FLOW = "change_session"

Values = tuple[Any, ...]
SessionAction = Callable[[Update, CuppaContext, Values], Awaitable[None]]


# ---------------------------------------------------------------------------------------------
# Looking through sessions, and one session's admin view
# ---------------------------------------------------------------------------------------------


def place_of(view: SessionView) -> str:
    if view.online or view.library is None:
        return sa.ONLINE_PLACE
    return sa.library_place(view.library.id)


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


def on_changeable(step: Callable[..., Awaitable[None]], *more: Any) -> SessionAction:
    """An sx: button about one session (its first value): `step` gets the session, if it can
    still be changed, then the button's other values and `more`."""

    async def handler(update: Update, context: CuppaContext, values: Values) -> None:
        view = await changeable(update, context, int(values[0]))
        if view is not None:
            await step(update, context, view, *values[1:], *more)

    return handler


async def set_change_form(
    update: Update, context: CuppaContext, view: SessionView, field: str, **more: Any
) -> None:
    data = {"session_id": view.id, "field": field, **more}
    await context.services.dialogs.set(user_id(update), CHANGE_FLOW, data)


# day and time
async def change_day_question(
    update: Update, context: CuppaContext, view: SessionView, lead: str = ""
) -> None:
    await set_change_form(update, context, view, "day")
    current = view.starts_at.astimezone(context.services.config.tz).date()
    keyboard = [[Button(f"Same day ({format_day(current)})", sa.change_time(view.id, current))]]
    keyboard += day_buttons(local_now(context).date(), lambda day: sa.change_time(view.id, day))
    keyboard.append(nav(sa.session(view.id)))
    text = (
        f"{view.activity} is on {when_of(view, context)}. Which day should it be? "
        "Tap a day, or type a date like 03/12/2026."
    )
    await reply(update, joined(lead, text), keyboard, edit=True)


async def day_chosen(update: Update, context: CuppaContext, view: SessionView, day: date) -> None:
    error = check_day(context, day)
    if error is not None:
        await change_day_question(update, context, view, lead=error)
        return
    await change_time_question(update, context, view, day)


async def change_time_question(
    update: Update, context: CuppaContext, view: SessionView, day: date, lead: str = ""
) -> None:
    await set_change_form(update, context, view, "time", day=day.isoformat())
    current = view.starts_at.astimezone(context.services.config.tz).time()
    keyboard = [
        [Button(f"Same time ({time_label(current)})", sa.change_when(view.id, day, current))]
    ]
    keyboard += time_buttons(lambda start: sa.change_when(view.id, day, start))
    keyboard.append(nav(sa.change_day(view.id)))
    text = f"What time on {format_day(day)}? Tap a time, or type one like 10:30."
    await reply(update, joined(lead, text), keyboard, edit=True)


async def when_chosen(
    update: Update, context: CuppaContext, view: SessionView, day: date, start: time
) -> None:
    error = check_day(context, day)
    if error is not None:
        await change_day_question(update, context, view, lead=error)
        return
    error = check_start(context, day, start)
    if error is not None:
        await change_time_question(update, context, view, day, lead=error)
        return
    tz = context.services.config.tz
    new = at_local(day, start, tz)
    if new == view.starts_at:
        lead = "That's when it is already. Please choose a different day or time."
        await change_day_question(update, context, view, lead=lead)
        return
    change = {"kind": "when", "day": day.isoformat(), "start": start.strftime("%H:%M")}
    question = f"Move {view.activity} from {when_of(view, context)} to {format_when(new, tz)}?"
    await confirm(update, context, view, change, question)


# place
async def change_place_question(
    update: Update, context: CuppaContext, view: SessionView, lead: str = ""
) -> None:
    await set_change_form(update, context, view, "place")
    areas = await context.services.libraries.areas()
    keyboard = [[Button(area, sa.change_area(view.id, n))] for n, area in enumerate(areas)]
    keyboard.append([Button("Online", sa.change_online(view.id))])
    keyboard.append(nav(sa.session(view.id)))
    now_at = "online" if view.online or view.library is None else f"at {view.library.name}"
    text = (
        f"It's {now_at} now. Where should it be? Choose the area, or Online. "
        "You can also type the library's name."
    )
    await reply(update, joined(lead, text), keyboard, edit=True)


async def area_chosen(update: Update, context: CuppaContext, view: SessionView, index: int) -> None:
    areas = await context.services.libraries.areas()
    if index >= len(areas):
        await change_place_question(update, context, view)
        return
    libraries = await context.services.libraries.in_area(areas[index])
    await offer_change_libraries(update, view, f"Which library in {areas[index]}?", libraries)


async def offer_change_libraries(
    update: Update, view: SessionView, text: str, libraries: list[LibraryView]
) -> None:
    keyboard = [[Button(lib.name, sa.change_library(view.id, lib.id))] for lib in libraries]
    keyboard.append(nav(sa.change_place(view.id)))
    await reply(update, text, keyboard, edit=True)


async def library_chosen(
    update: Update, context: CuppaContext, view: SessionView, library_id: int
) -> None:
    library = await context.services.libraries.get(library_id)
    if library is None:
        lead = "Sorry, I couldn't find that library."
        await change_place_question(update, context, view, lead=lead)
        return
    if not view.online and view.library is not None and view.library.id == library.id:
        await change_place_question(update, context, view, lead=f"It's at {library.name} already.")
        return
    question = f"Move {view.activity} on {when_of(view, context)} to {library.name}?"
    await confirm(update, context, view, {"kind": "library", "library_id": library.id}, question)


async def online_link_question(
    update: Update, context: CuppaContext, view: SessionView, lead: str = ""
) -> None:
    await set_change_form(update, context, view, "link")
    text = "Please type or paste the join link for the online session (starting https://)."
    if view.online:
        text += " It's online already: the new link will replace the old one."
    await reply(update, joined(lead, text), [nav(sa.change_place(view.id))], edit=True)


async def link_chosen(update: Update, context: CuppaContext, view: SessionView, link: str) -> None:
    error = check_link(link)
    if error is not None:
        await online_link_question(update, context, view, lead=error)
        return
    if view.online:
        question = (
            f"Change the join link of {view.activity} on {when_of(view, context)} to:\n{link}"
        )
    else:
        question = (
            f"Move {view.activity} on {when_of(view, context)} online, with this join link?\n{link}"
        )
    await confirm(update, context, view, {"kind": "online", "link": link}, question)


# places
async def capacity_question(
    update: Update, context: CuppaContext, view: SessionView, lead: str = ""
) -> None:
    await set_change_form(update, context, view, "places")
    buttons = [Button(str(n), sa.set_capacity(view.id, n)) for n in PLACES]
    keyboard = [buttons[:3], buttons[3:], nav(sa.session(view.id))]
    text = (
        f"How many places should it have? It has {view.capacity} now, with {view.booked} "
        f"booked and {view.waiting} waiting. Tap a number, or type one."
    )
    await reply(update, joined(lead, text), keyboard, edit=True)


async def capacity_chosen(
    update: Update, context: CuppaContext, view: SessionView, capacity: int, error: str | None
) -> None:
    error = error or check_capacity(capacity)
    if error is None and capacity == view.capacity:
        error = f"It has {capacity} places already."
    if error is not None:
        await capacity_question(update, context, view, lead=error)
        return
    question = f"Change the places for {view.activity} from {view.capacity} to {capacity}?"
    promoted = min(view.waiting, capacity - view.booked)
    if promoted > 0:
        question += (
            f" The first {promoted} on the waiting list will get a place."
            if promoted > 1
            else " The first person on the waiting list will get a place."
        )
    if capacity < view.booked:
        question += (
            f" {people(view.booked)} have booked already: they keep their places, and "
            "nobody else can book until some of them cancel."
        )
    await confirm(update, context, view, {"kind": "capacity", "capacity": capacity}, question)


# notes
async def notes_question(
    update: Update, context: CuppaContext, view: SessionView, lead: str = ""
) -> None:
    await set_change_form(update, context, view, "notes")
    keyboard = [[Button("No notes", sa.clear_notes(view.id))], nav(sa.session(view.id))]
    text = (
        "Please type the new notes for people coming, or tap No notes.\n"
        f"The notes now: {view.notes or 'none'}"
    )
    await reply(update, joined(lead, text), keyboard, edit=True)


async def notes_chosen(
    update: Update, context: CuppaContext, view: SessionView, notes: str
) -> None:
    error = check_notes(notes)
    if error is None and notes == view.notes:
        error = "Those are the notes already." if notes else "There are no notes already."
    if error is not None:
        await notes_question(update, context, view, lead=error)
        return
    question = f"Change the notes to:\n{notes}" if notes else "Remove the notes?"
    await confirm(update, context, view, {"kind": "notes", "notes": notes}, question)


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


def change_arguments(change: dict[str, Any]) -> dict[str, Any]:
    kind = change["kind"]
    if kind == "when":
        return {
            "day": date.fromisoformat(change["day"]),
            "start": time.fromisoformat(change["start"]),
        }
    if kind == "library":
        return {"library_id": int(change["library_id"])}
    if kind == "online":
        return {"online_link": str(change["link"])}
    if kind == "capacity":
        return {"capacity": int(change["capacity"])}
    return {"notes": str(change["notes"])}


async def ask_again(
    update: Update, context: CuppaContext, view: SessionView, kind: str, lead: str
) -> None:
    """After the service refused a change: its question again, with what was wrong."""
    if kind == "when":
        await change_day_question(update, context, view, lead=lead)
    elif kind in ("library", "online"):
        await change_place_question(update, context, view, lead=lead)
    elif kind == "capacity":
        await capacity_question(update, context, view, lead=lead)
    elif kind == "notes":
        await notes_question(update, context, view, lead=lead)
    else:
        await show_session(update, context, view.id, lead=lead)


@staff_only
async def typed_change_session(update: Update, context: CuppaContext) -> None:
    """A typed answer while changing a session: a day, time, library, link, number or notes."""
    services = context.services
    state = await services.dialogs.get(user_id(update))
    data = state.data if state is not None and state.flow == CHANGE_FLOW else {}
    session_id = data.get("session_id")
    if not isinstance(session_id, int):
        await show_staff_menu(update, context)
        return
    text = typed_text(update)
    if wants_to_leave(text):
        await show_session(update, context, session_id, lead="OK, I've left it as it was.")
        return
    view = await changeable(update, context, session_id)
    if view is None:
        return
    field = data.get("field")
    if field == "day":
        day = sa.parse_typed_day(text)
        if day is None:
            lead = "Sorry, I couldn't read that date. Please tap a day, or type it like 03/12/2026."
            await change_day_question(update, context, view, lead=lead)
        else:
            await day_chosen(update, context, view, day)
    elif field == "time":
        day = date.fromisoformat(str(data.get("day")))
        start = sa.parse_typed_time(text)
        if start is None:
            lead = "Sorry, I couldn't read that time. Please tap a time, or type it like 10:30."
            await change_time_question(update, context, view, day, lead=lead)
        else:
            await when_chosen(update, context, view, day, start)
    elif field == "place":
        libraries = await services.libraries.search(text[:100])
        if libraries:
            await offer_change_libraries(update, view, "Which library do you mean?", libraries)
        else:
            lead = "Sorry, I couldn't find a library by that name."
            await change_place_question(update, context, view, lead=lead)
    elif field == "link":
        await link_chosen(update, context, view, text.strip())
    elif field == "places":
        capacity, error = read_capacity(text)
        await capacity_chosen(update, context, view, capacity or 0, error)
    elif field == "notes":
        await notes_chosen(update, context, view, text.strip())
    else:
        keyboard = [
            [Button("Yes, go ahead", sa.go_ahead(view.id))],
            [Button("No, leave it", sa.session(view.id))],
            [LEAVE_BUTTON],
        ]
        await reply(update, joined(TAP_A_BUTTON, str(data.get("text", ""))), keyboard)


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
