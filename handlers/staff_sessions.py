"""The staff side of sessions: the staff menu (/staff), making a session one question at a time,
looking through a place's sessions, changing, moving or cancelling one (everyone booked or
waiting is told, once), stopping a weekly session, taking attendance, and the audit trail.

Every entry point is `staff_only`: a resident who types /staff or forges "sf", "sn:", "sx:" or
"sa:" data gets the kind refusal and nothing changes. The forms keep their answers in Dialogs
("new_session", "change_session"), so a restart or a second bot process carries on; their
Menu button also closes the form, so later typing isn't taken for an answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update

from bot import actions
from bot import staff_actions as sa
from bot.clock import at_local, format_day, format_time, format_when
from bot.services.staff_lists import StaffLists
from bot.services.staff_sessions import (
    MAX_CAPACITY,
    MAX_LINK,
    MAX_NOTES,
    PlanError,
    SessionPlan,
)
from bot.services.views import Button, Keyboard, LibraryView, SessionView
from bot.wording import duration, people, place_line
from handlers.common import MENU_BUTTON, expired_button, reply, show_menu, staff_only
from handlers.context import CuppaContext
from handlers.forms import joined, rows_of, typed_text, user_id, wants_to_leave

NEW_FLOW = "new_session"
CHANGE_FLOW = "change_session"

TIMES = (time(10), time(10, 30), time(11), time(14), time(14, 30), time(18))
LENGTHS = {60: "1 hour", 90: "1½ hours", 120: "2 hours"}
PLACES = (8, 10, 12, 15, 20, 30)
DAYS_OFFERED = 14
FURTHEST = timedelta(days=365)
ATTENDANCE_PAGE = 10
RECENT_ACTIONS = 20
NAME_IN_BUTTON = 20
DETAIL_SHOWN = 120
TEXT_LIMIT = 4000  # Telegram's is 4096
IMPORTER = 0  # the audit trail's "who" for the command line (imports, reports)

# Inside the staff screens "Menu" also closes any open form.
LEAVE_BUTTON = Button("Menu", sa.LEAVE)
TAP_A_BUTTON = "Please tap one of the buttons below, or send /cancel to stop."

Values = tuple[Any, ...]
SessionAction = Callable[[Update, CuppaContext, Values], Awaitable[None]]


# ---------------------------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------------------------


def weeks(count: int) -> str:
    return f"{count} {'week' if count == 1 else 'weeks'}"


def time_label(start: time) -> str:
    """'10:30am', '2pm'."""
    return format_time(datetime.combine(date(2000, 1, 1), start))


def length_label(minutes: int) -> str:
    return LENGTHS.get(minutes) or duration(minutes)


def nav(back: str) -> list[Button]:
    return [Button("Back", back), LEAVE_BUTTON]


def lists(context: CuppaContext) -> StaffLists:
    services = context.services
    return StaffLists(services.db, services.config, services.clock)


def local_now(context: CuppaContext) -> datetime:
    return context.services.clock().astimezone(context.services.config.tz)


def day_buttons(today: date, make: Callable[[date], str]) -> Keyboard:
    """The next fortnight, two to a row."""
    days = [today + timedelta(days=n) for n in range(DAYS_OFFERED)]
    return rows_of([Button(format_day(day), make(day)) for day in days], 2)


def time_buttons(make: Callable[[time], str]) -> Keyboard:
    return rows_of([Button(time_label(start), make(start)) for start in TIMES], 3)


# Checks on answers: None when fine, otherwise what to say (kindly) before asking again.
def check_day(context: CuppaContext, day: date) -> str | None:
    today = local_now(context).date()
    if day < today:
        return "That day has already passed. Please choose today or a day after."
    if day > today + FURTHEST:
        return "Please choose a day within the next year."
    return None


def check_start(context: CuppaContext, day: date, start: time) -> str | None:
    if at_local(day, start, context.services.config.tz) <= context.services.clock():
        return "That time has already passed. Please choose a later time."
    return None


def check_link(link: str) -> str | None:
    if len(link) > MAX_LINK:
        return f"That link is too long: it can be up to {MAX_LINK} characters."
    scheme, _, rest = link.partition("://")
    if scheme not in ("https", "http") or not rest or len(link.split()) != 1:
        return "That doesn't look like a join link. Please paste the whole link, starting https://."
    return None


def check_capacity(capacity: int) -> str | None:
    if not 1 <= capacity <= MAX_CAPACITY:
        return f"Please choose between 1 and {MAX_CAPACITY} places."
    return None


def check_notes(notes: str) -> str | None:
    if len(notes) > MAX_NOTES:
        return (
            f"That's a bit long: notes can be up to {MAX_NOTES} characters. "
            "Please shorten them and send them again."
        )
    return None


def read_capacity(text: str) -> tuple[int | None, str | None]:
    number = actions.plain_number(text.strip())
    if number is None:
        return None, "Please tap a number, or type one like 12."
    return number, check_capacity(number)


# ---------------------------------------------------------------------------------------------
# The staff menu and the audit trail
# ---------------------------------------------------------------------------------------------


@staff_only
async def staff_command(update: Update, context: CuppaContext) -> None:
    """Show the staff menu: /staff."""
    await show_staff_menu(update, context)


@staff_only
async def staff_button(update: Update, context: CuppaContext) -> None:
    """The staff menu (sf), the recent staff actions (sf:r) and leaving a form (sf:m)."""
    action = sa.parse(update.callback_query.data)  # type: ignore[union-attr]
    if action is None:
        await expired_button(update, context)
    elif action.kind == "sf:r":
        await recent_actions(update, context)
    elif action.kind == "sf:m":
        await context.services.dialogs.clear(user_id(update))
        await show_menu(update, context)
    else:
        await show_staff_menu(update, context)


async def show_staff_menu(update: Update, context: CuppaContext, lead: str = "") -> None:
    await context.services.dialogs.clear(user_id(update))
    keyboard = [
        [Button("New session", sa.NEW)],
        [Button("Upcoming sessions", sa.WHERE)],
        [Button("Broadcast", sa.BROADCAST)],
        [Button("Register a Reading Friends reader", "rf:staff")],
        [Button("Readers without Telegram", "pf:l")],
        [Button("Reports", "rp")],
        [Button("Recent staff actions", sa.RECENT)],
        [MENU_BUTTON],
    ]
    await reply(update, joined(lead, "Staff menu. What would you like to do?"), keyboard, edit=True)


async def recent_actions(update: Update, context: CuppaContext) -> None:
    """The newest entries of the audit trail, in local time."""
    entries = await context.services.audit.recent(RECENT_ACTIONS)
    tz = context.services.config.tz
    me = user_id(update)
    lines = []
    for entry in entries:
        if entry.staff_telegram_id == me:
            who = "you"
        elif entry.staff_telegram_id == IMPORTER:
            who = "command line"
        elif entry.staff_telegram_id < 0:  # privacy.SELF_SERVICE: someone erasing themselves
            who = "a member of the public"
        else:
            who = f"staff {entry.staff_telegram_id}"
        detail = " ".join(entry.detail.split())  # a broadcast's text may run over lines
        if len(detail) > DETAIL_SHOWN:
            detail = detail[:DETAIL_SHOWN] + "…"
        lines.append(f"{format_when(entry.at, tz)}, {who}: {entry.action}: {detail}")
    text = "Recent staff actions, newest first:\n\n" + "\n".join(lines)
    if len(text) > TEXT_LIMIT:
        text = text[: text.rindex("\n", 0, TEXT_LIMIT)]
    if not entries:
        text = "No staff actions yet."
    await reply(update, text, [nav(sa.STAFF_MENU)], edit=True)


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


# ---------------------------------------------------------------------------------------------
# Looking through sessions, and one session's admin view
# ---------------------------------------------------------------------------------------------


def place_of(view: SessionView) -> str:
    if view.online or view.library is None:
        return sa.ONLINE_PLACE
    return sa.library_place(view.library.id)


def session_details(view: SessionView, weekly: bool, now: datetime, tz: ZoneInfo) -> str:
    """A session as staff see it: what, where, when, places, who has booked."""
    lines = [
        f"{view.activity}{', every week' if weekly else ''}",
        f"Where: {place_line(view)}",
        f"When: {format_when(view.starts_at, tz)} ({duration(view.duration_minutes)})",
        f"Places: {view.capacity}",
        f"{view.booked} booked, {view.waiting} waiting",
        f"Notes: {view.notes or 'none'}",
    ]
    if view.status == "cancelled":
        lines.append("This session has been cancelled.")
    elif view.starts_at <= now:
        lines.append("This session has started.")
    return "\n".join(lines)


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


def when_of(view: SessionView, context: CuppaContext) -> str:
    return format_when(view.starts_at, context.services.config.tz)


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


# ---------------------------------------------------------------------------------------------
# People and attendance
# ---------------------------------------------------------------------------------------------

MARK_WORDS = {"attended": "came", "no_show": "didn't come"}


@staff_only
async def attendance_button(update: Update, context: CuppaContext) -> None:
    """Every sa: button: who has booked, and marking who came."""
    action = sa.parse(update.callback_query.data)  # type: ignore[union-attr]
    if action is None or not action.kind.startswith("sa:"):
        await expired_button(update, context)
        return
    if action.kind == "sa:v":
        session_id, page = action.values
        await show_attendance(update, context, int(session_id), int(page))
        return
    session_id, booking_id, code, page = action.values
    await mark(update, context, int(session_id), int(booking_id), str(code), int(page))


async def show_attendance(
    update: Update, context: CuppaContext, session_id: int, page: int, lead: str = ""
) -> None:
    services = context.services
    view = await services.catalogue.get(session_id)
    if view is None:
        await expired_button(update, context)
        return
    attendees = await services.admin.attendees(session_id)
    booked = [a for a in attendees if a.status == "booked"]
    waiting = len(attendees) - len(booked)
    started = view.starts_at <= services.clock()
    can_mark = started and view.status == "scheduled"
    pages = max(1, -(-len(booked) // ATTENDANCE_PAGE))
    page = min(page, pages - 1)
    first = page * ATTENDANCE_PAGE
    shown = booked[first : first + ATTENDANCE_PAGE]
    lines = [
        f"{view.activity}, {when_of(view, context)}",
        f"{len(booked)} booked, {waiting} waiting",
    ]
    if pages > 1:
        lines.append(f"(page {page + 1} of {pages})")
    lines.append("")
    keyboard: Keyboard = []
    for number, person in enumerate(shown, start=first + 1):
        name = person.first_name or "(no name)"
        word = MARK_WORDS.get(person.attendance or "")
        lines.append(f"{number}. {name}{f': {word}' if word else ''}")
        if can_mark:
            short = name[:NAME_IN_BUTTON]
            came = "✓ " if person.attendance == "attended" else ""
            missed = "✓ " if person.attendance == "no_show" else ""
            keyboard.append(
                [
                    Button(
                        f"{came}{number}. {short} came",
                        sa.mark(session_id, person.booking_id, True, page),
                    ),
                    Button(
                        f"{missed}{number}. didn't come",
                        sa.mark(session_id, person.booking_id, False, page),
                    ),
                ]
            )
    if not booked:
        lines.append("Nobody has a place yet.")
    if view.status != "scheduled":
        lines.append("This session was cancelled.")
    elif not started:
        lines.append("You can mark who came once the session has started.")
    elif booked:
        lines.append("Tap to mark who came and who didn't.")
    paging = []
    if page > 0:
        paging.append(Button("◀ Earlier", sa.attendance(session_id, page - 1)))
    if page < pages - 1:
        paging.append(Button("Later ▶", sa.attendance(session_id, page + 1)))
    if paging:
        keyboard.append(paging)
    keyboard.append(nav(sa.session(session_id)))
    await reply(update, joined(lead, "\n".join(lines)), keyboard, edit=True)


async def mark(
    update: Update, context: CuppaContext, session_id: int, booking_id: int, code: str, page: int
) -> None:
    """Mark one booked person as came or didn't come, once the session has started."""
    services = context.services
    attendees = await services.admin.attendees(session_id)
    view = await services.catalogue.get(session_id)
    if view is None or not any(
        a.booking_id == booking_id and a.status == "booked" for a in attendees
    ):
        await expired_button(update, context)
        return
    lead = ""
    if view.status != "scheduled":
        lead = "This session was cancelled, so there's no attendance to take."
    elif not await services.admin.mark_attendance(user_id(update), booking_id, sa.MARKS[code]):
        lead = "You can mark who came once the session has started."
    await show_attendance(update, context, session_id, page, lead)


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

COMMANDS = [("staff", staff_command)]
BUTTONS = [
    (r"^sf(?::|$)", staff_button),
    (r"^sn:", new_session_button),
    (r"^sx:", session_admin_button),
    (r"^sa:", attendance_button),
]
TYPED = {NEW_FLOW: typed_new_session, CHANGE_FLOW: typed_change_session}
