"""Staff changing one session: the questions and answers for its day and time, place (a
library, or online with a join link), places and notes, typed or tapped.

Every answer that passes its checks goes to the confirmation in staff_session_view; the router
in staff_session_admin makes the change once confirmed, and asks again here (ask_again) if the
service refuses it.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from telegram import Update

from bot import staff_actions as sa
from bot.clock import at_local, format_day, format_when
from bot.services.views import Button, LibraryView, SessionView
from bot.wording import people
from handlers.common import reply, staff_only
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
    local_now,
    nav,
    read_capacity,
    time_buttons,
    time_label,
    when_of,
)
from handlers.staff_menu import show_staff_menu
from handlers.staff_session_view import (
    CHANGE_FLOW,
    changeable,
    confirm,
    set_change_form,
    show_session,
)


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
