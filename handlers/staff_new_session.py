"""The staff's new-session form: making a session one question at a time, then creating it.

Every entry point is `staff_only`: forged "sn:" data gets the kind refusal and nothing changes.
The form keeps its answers in Dialogs ("new_session"), so a restart or a second bot process
carries on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, time
from typing import Any

from telegram import Update

from bot import staff_actions as sa
from bot.clock import format_day
from bot.services.staff_sessions import PlanError, SessionPlan
from bot.services.views import Button, Keyboard, LibraryView
from handlers.common import MENU_BUTTON, expired_button, reply, staff_only
from handlers.context import CuppaContext
from handlers.forms import joined, typed_text, user_id, wants_to_leave
from handlers.staff_common import (
    LENGTHS,
    PLACES,
    TAP_A_BUTTON,
    check_capacity,
    check_day,
    check_link,
    check_notes,
    check_start,
    day_buttons,
    length_label,
    local_now,
    nav,
    read_capacity,
    session_details,
    time_buttons,
    time_label,
)
from handlers.staff_menu import show_staff_menu

NEW_FLOW = "new_session"


# ---------------------------------------------------------------------------------------------
# A new session, one question at a time (Dialogs flow "new_session")
# ---------------------------------------------------------------------------------------------

# The dialog's fields for each question of the form.
FIELDS: dict[str, tuple[str, ...]] = {
    "activity": ("activity_id",),
    "where": ("library_id", "online", "link"),
    "link": ("link",),
    "day": ("day", "start"),
    "time": ("start",),
    "length": ("minutes",),
    "places": ("capacity",),
    "repeat": ("weekly",),
    "notes": ("notes",),
}
# The question each answer button belongs to.
ANSWERS = {
    "sn:a": "activity",
    "sn:r": "where",
    "sn:l": "where",
    "sn:o": "where",
    "sn:d": "day",
    "sn:t": "time",
    "sn:m": "length",
    "sn:c": "places",
    "sn:w": "repeat",
    "sn:x": "notes",
}


def applies(step: str, data: dict[str, Any]) -> bool:
    return step != "link" or data.get("online") is True


def answered(step: str, data: dict[str, Any]) -> bool:
    if step == "where":
        return "library_id" in data or data.get("online") is True
    return FIELDS[step][0] in data


def current_step(data: dict[str, Any]) -> str | None:
    """The first question not yet answered; None when the form is complete."""
    for step in sa.STEPS:
        if applies(step, data) and not answered(step, data):
            return step
    return None


def previous_step(step: str | None, data: dict[str, Any]) -> str | None:
    end = sa.STEPS.index(step) if step is not None else len(sa.STEPS)
    earlier = [s for s in sa.STEPS[:end] if applies(s, data)]
    return earlier[-1] if earlier else None


def cleared_from(step: str, data: dict[str, Any]) -> dict[str, Any]:
    """The answers before this question (going Back asks it and the ones after it again)."""
    later = {field for s in sa.STEPS[sa.STEPS.index(step) :] for field in FIELDS[s]}
    return {key: value for key, value in data.items() if key not in later}


def without(step: str, data: dict[str, Any]) -> dict[str, Any]:
    """The answers with just this question's (and what depends on it) taken out."""
    return {key: value for key, value in data.items() if key not in FIELDS[step]}


def plan_of(data: dict[str, Any]) -> SessionPlan:
    online = data.get("online") is True
    return SessionPlan(
        activity_id=int(data["activity_id"]),
        library_id=None if online else int(data["library_id"]),
        day=date.fromisoformat(data["day"]),
        start=time.fromisoformat(data["start"]),
        duration_minutes=int(data["minutes"]),
        capacity=int(data["capacity"]),
        join_link=str(data.get("link", "")) if online else "",
        notes=str(data["notes"]),
        weekly=bool(data["weekly"]),
    )


@staff_only
async def new_session_button(update: Update, context: CuppaContext) -> None:
    """Every sn: button: start, answer, go back, create or leave the new-session form."""
    action = sa.parse(update.callback_query.data)  # type: ignore[union-attr]
    if action is None:
        await expired_button(update, context)
        return
    if action.kind == "sn:n":
        await ask_new(update, context, {})
        return
    if action.kind == "sn:q":
        await show_staff_menu(update, context, lead="OK, I haven't made that session.")
        return
    state = await context.services.dialogs.get(user_id(update))
    if state is None or state.flow != NEW_FLOW:
        await show_staff_menu(
            update,
            context,
            lead="Sorry, that form has closed. Here's the staff menu to start again.",
        )
        return
    data = dict(state.data)
    if action.kind == "sn:b":
        await ask_new(update, context, cleared_from(str(action.values[0]), data))
    elif action.kind == "sn:y":
        await create(update, context, data)
    elif action.kind in ANSWERS and current_step(data) != ANSWERS[action.kind]:
        await ask_new(update, context, data, lead="Let's carry on from here.")
    elif action.kind in ANSWERS:
        await answer_new(update, context, data, action)
    else:
        await expired_button(update, context)


async def answer_new(
    update: Update, context: CuppaContext, data: dict[str, Any], action: sa.StaffAction
) -> None:
    """Take a button's answer to the current question, then ask the next one."""
    services = context.services
    kind, values = action.kind, action.values
    error = None
    if kind == "sn:a":
        activities = {activity.id for activity in await services.catalogue.activities()}
        if values[0] in activities:
            data["activity_id"] = values[0]
        else:
            error = "Sorry, I couldn't find that kind of session."
    elif kind == "sn:r":
        areas = await services.libraries.areas()
        index = int(values[0])  # type: ignore[arg-type]
        if index < len(areas):
            libraries = await services.libraries.in_area(areas[index])
            await offer_new_libraries(update, f"Which library in {areas[index]}?", libraries)
            return
        error = "Sorry, I couldn't find that area."
    elif kind == "sn:l":
        library = await services.libraries.get(int(values[0]))  # type: ignore[arg-type]
        if library is None:
            error = "Sorry, I couldn't find that library."
        else:
            data = without("where", data) | {"library_id": library.id}
    elif kind == "sn:o":
        data["online"] = True
    elif kind == "sn:d":
        error = take_day(context, data, values[0])  # type: ignore[arg-type]
    elif kind == "sn:t":
        error = take_time(context, data, values[0])  # type: ignore[arg-type]
    elif kind == "sn:m":
        if values[0] in LENGTHS:
            data["minutes"] = values[0]
        else:
            error = "Please choose how long it lasts."
    elif kind == "sn:c":
        error = check_capacity(int(values[0]))  # type: ignore[arg-type]
        if error is None:
            data["capacity"] = values[0]
    elif kind == "sn:w":
        data["weekly"] = values[0]
    elif kind == "sn:x":
        data["notes"] = ""
    await ask_new(update, context, data, lead=error or "")


def take_day(context: CuppaContext, data: dict[str, Any], day: date) -> str | None:
    error = check_day(context, day)
    if error is None:
        data.pop("start", None)
        data["day"] = day.isoformat()
    return error


def take_time(context: CuppaContext, data: dict[str, Any], start: time) -> str | None:
    error = check_start(context, date.fromisoformat(data["day"]), start)
    if error is None:
        data["start"] = start.strftime("%H:%M")
    return error


@staff_only
async def typed_new_session(update: Update, context: CuppaContext) -> None:
    """A typed answer in the new-session form: a link, day, time, number or notes."""
    services = context.services
    state = await services.dialogs.get(user_id(update))
    if state is None or state.flow != NEW_FLOW:
        await show_staff_menu(update, context)
        return
    data = dict(state.data)
    text = typed_text(update)
    if wants_to_leave(text):
        await show_staff_menu(
            update, context, lead="OK, I've stopped. I haven't made that session."
        )
        return
    step = current_step(data)
    error: str | None = TAP_A_BUTTON
    if step == "link":
        link = text.strip()
        error = check_link(link)
        if error is None:
            data["link"] = link
    elif step == "day":
        day = sa.parse_typed_day(text)
        error = "Sorry, I couldn't read that date. Please tap a day, or type it like 03/12/2026."
        if day is not None:
            error = take_day(context, data, day)
    elif step == "time":
        start = sa.parse_typed_time(text)
        error = "Sorry, I couldn't read that time. Please tap a time, or type it like 10:30."
        if start is not None:
            error = take_time(context, data, start)
    elif step == "places":
        capacity, error = read_capacity(text)
        if error is None:
            data["capacity"] = capacity
    elif step == "notes":
        notes = text.strip()
        error = check_notes(notes)
        if error is None:
            data["notes"] = notes
    elif step == "where":
        libraries = await services.libraries.search(text[:100])
        if libraries:
            await offer_new_libraries(update, "Which library do you mean?", libraries)
            return
        error = "Sorry, I couldn't find a library by that name. Please choose the area, or Online."
    await ask_new(update, context, data, lead=error or "")


async def offer_new_libraries(update: Update, text: str, libraries: list[LibraryView]) -> None:
    keyboard = [[Button(library.name, sa.new_library(library.id))] for library in libraries]
    keyboard.append(nav(sa.new_back("where")))
    await reply(update, text, keyboard, edit=True)


async def ask_new(
    update: Update, context: CuppaContext, data: dict[str, Any], lead: str = ""
) -> None:
    """Save the answers so far and ask the next question (or show the preview)."""
    await context.services.dialogs.set(user_id(update), NEW_FLOW, data)
    step = current_step(data)
    if step is None:
        text, keyboard = await preview(context, data)
    else:
        text, keyboard = await QUESTIONS[step](context, data)
    before = previous_step(step, data)
    keyboard.append(nav(sa.new_back(before) if before else sa.STAFF_MENU))
    await reply(update, joined(lead, text), keyboard, edit=True)


async def ask_activity(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    activities = await context.services.catalogue.activities()
    keyboard = [[Button(a.name, sa.new_activity(a.id))] for a in activities]
    return "New session. What kind of session is it?", keyboard


async def ask_where(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    areas = await context.services.libraries.areas()
    keyboard = [[Button(area, sa.new_area(index))] for index, area in enumerate(areas)]
    keyboard.append([Button("Online", sa.ONLINE)])
    text = "Where will it be? Choose the area, or Online. You can also type the library's name."
    return text, keyboard


async def ask_link(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    return "Please type or paste the join link for the online session (starting https://).", []


async def ask_day(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    keyboard = day_buttons(local_now(context).date(), sa.new_day)
    return "Which day? Tap a day, or type a date like 03/12/2026.", keyboard


async def ask_time(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    day = date.fromisoformat(data["day"])
    text = f"What time does it start on {format_day(day)}? Tap a time, or type one like 10:30."
    return text, time_buttons(sa.new_time)


async def ask_length(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    keyboard = [[Button(label, sa.new_length(minutes)) for minutes, label in LENGTHS.items()]]
    return "How long does it last?", keyboard


async def ask_places(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    buttons = [Button(str(n), sa.new_places(n)) for n in PLACES]
    keyboard = [buttons[:3], buttons[3:]]
    return "How many places are there? Tap a number, or type one.", keyboard


async def ask_repeat(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    day, start = date.fromisoformat(data["day"]), time.fromisoformat(data["start"])
    keyboard = [
        [Button("One-off", sa.new_repeat(False)), Button("Every week", sa.new_repeat(True))]
    ]
    text = f"Is it a one-off, or every week (on {day:%A}s at {time_label(start)})?"
    return text, keyboard


async def ask_notes(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    text = (
        "Any notes for people coming, such as “Biscuits provided” or “Bring your own wool”? "
        "Type them, or tap No notes."
    )
    return text, [[Button("No notes", sa.NO_NOTES)]]


QUESTIONS: dict[str, Callable[[CuppaContext, dict[str, Any]], Awaitable[tuple[str, Keyboard]]]] = {
    "activity": ask_activity,
    "where": ask_where,
    "link": ask_link,
    "day": ask_day,
    "time": ask_time,
    "length": ask_length,
    "places": ask_places,
    "repeat": ask_repeat,
    "notes": ask_notes,
}


async def preview(context: CuppaContext, data: dict[str, Any]) -> tuple[str, Keyboard]:
    plan = plan_of(data)
    services = context.services
    names = {a.id: a.name for a in await services.catalogue.activities()}
    if plan.online:
        where = f"Online (join link: {plan.join_link})"
    else:
        library = await services.libraries.get(plan.library_id)  # type: ignore[arg-type]
        where = library.name if library else "a library that no longer exists"
    first = format_day(plan.day)
    if plan.weekly:
        when = f"Every {plan.day:%A} at {time_label(plan.start)}, starting {first}"
    else:
        when = f"{first}, {time_label(plan.start)}"
    lines = [
        "Please check the new session:",
        "",
        names.get(plan.activity_id, "An activity that no longer exists"),
        f"Where: {where}",
        f"When: {when} ({length_label(plan.duration_minutes)})",
        f"Places: {plan.capacity}",
        f"Notes: {plan.notes or 'none'}",
    ]
    keyboard = [
        [Button("Create it", sa.CREATE)],
        [Button("Start again", sa.NEW), Button("Cancel", sa.QUIT)],
    ]
    return "\n".join(lines), keyboard


async def create(update: Update, context: CuppaContext, data: dict[str, Any]) -> None:
    """Make the session; a problem staff can fix is shown and its question asked again."""
    services = context.services
    if current_step(data) is not None:
        await ask_new(update, context, data, lead="There are a few more questions first.")
        return
    plan = plan_of(data)
    try:
        view = await services.admin.create(user_id(update), plan)
    except PlanError as problem:
        step = await step_for_problem(context, plan)
        await ask_new(update, context, without(step, data), lead=str(problem))
        return
    await services.dialogs.clear(user_id(update))
    if plan.weekly:
        days = services.config.sessions.horizon_days
        lead = (
            "Done: the weekly session is made. People can book it up to "
            f"{days} days ahead, and I'll add each new week as it comes."
        )
    else:
        lead = "Done: the session is made and people can book it now."
    keyboard = [
        [Button("See it", sa.session(view.id))],
        [Button("Make another", sa.NEW)],
        [Button("Staff menu", sa.STAFF_MENU), MENU_BUTTON],
    ]
    details = session_details(view, plan.weekly, services.clock(), services.config.tz)
    text = joined(lead, details)
    await reply(update, text, keyboard, edit=True)


async def step_for_problem(context: CuppaContext, plan: SessionPlan) -> str:
    """Which question to ask again after the service refused a plan."""
    services = context.services
    if plan.activity_id not in {a.id for a in await services.catalogue.activities()}:
        return "activity"
    if plan.library_id is not None and await services.libraries.get(plan.library_id) is None:
        return "where"
    if check_capacity(plan.capacity):
        return "places"
    if plan.online and check_link(plan.join_link):
        return "link"
    if check_notes(plan.notes):
        return "notes"
    if check_day(context, plan.day):
        return "day"
    if check_start(context, plan.day, plan.start):
        return "time"
    return "day"


COMMANDS: list[tuple[str, object]] = []
BUTTONS = [(r"^sn:", new_session_button)]
TYPED = {NEW_FLOW: typed_new_session}
