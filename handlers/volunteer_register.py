"""Signing up to volunteer, and changing one's times (Dialogs flow "volunteer"), one question at a
time: the times each week, how many calls a week, and what they like to talk or read about.

Its buttons arrive through volunteer_home's router, by FORM_STEPS.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot import volunteer_actions as va
from bot.services.readers import INTERESTS
from bot.services.views import Button, WindowView
from bot.services.volunteers import WEEKDAYS, window_text
from handlers.common import expired_button, reply
from handlers.context import CuppaContext
from handlers.forms import rows_of, tick_boxes, user_id
from handlers.volunteer_common import FLOW, HOME_AND_MENU, Form, ask_day, hour_text, nav, save
from handlers.volunteer_status import show_home

FIRST_HOUR, LAST_START_HOUR, LAST_HOUR = 9, 19, 21  # times offered: from 9am-7pm, until 9pm

MAX_WINDOWS = 14

THANKS_FOR_REGISTERING = (
    "Thank you. Library staff will check a few things (including a DBS check) and let you know."
)


def windows_of(form: Form) -> list[WindowView]:
    return [WindowView(*window) for window in form.get("windows", [])]


def merged(windows: list[WindowView]) -> list[WindowView]:
    """One window per stretch of free time: overlapping or touching times on a day join up."""
    result: list[WindowView] = []
    for window in sorted(windows, key=lambda w: (w.weekday, w.start_minute)):
        last = result[-1] if result else None
        if last and last.weekday == window.weekday and window.start_minute <= last.end_minute:
            end = max(last.end_minute, window.end_minute)
            result[-1] = WindowView(last.weekday, last.start_minute, end)
        else:
            result.append(window)
    return result


async def open_form(update: Update, context: CuppaContext) -> Form | None:
    """The sign-up (or change of times) form's answers so far; a new sign-up for someone not
    yet registered whose form was lost; None for a stale button."""
    dialog = await context.services.dialogs.get(user_id(update))
    if dialog is not None and dialog.flow == FLOW:
        return dialog.data
    person = await context.person()
    if person is not None and await context.services.volunteers.by_person(person.id) is None:
        form: Form = {"mode": "register", "windows": []}
        await save(update, context, form)
        return form
    return None


async def chose_day(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    form = {**form, "day": value}
    form.pop("from", None)
    await save(update, context, form)
    buttons = [
        Button(hour_text(hour * 60), va.start_time(hour * 60))
        for hour in range(FIRST_HOUR, LAST_START_HOUR + 1)
    ]
    keyboard = [*rows_of(buttons, 3), nav(va.ADD_TIME)]
    await reply(update, f"{WEEKDAYS[value]}: from what time?", keyboard, edit=True)


async def chose_start(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    if "day" not in form or not (FIRST_HOUR * 60 <= value <= LAST_START_HOUR * 60):
        await expired_button(update, context)
        return
    form = {**form, "from": value}
    await save(update, context, form)
    await ask_end(update, context, form)


async def ask_end(update: Update, context: CuppaContext, form: Form) -> None:
    start = int(form["from"])
    buttons = [
        Button(hour_text(minute), va.end_time(minute))
        for minute in range(start + 60, LAST_HOUR * 60 + 1, 60)
    ]
    keyboard = [*rows_of(buttons, 3), nav(va.day(int(form["day"])))]
    text = f"{WEEKDAYS[int(form['day'])]} from {hour_text(start)}: until what time?"
    await reply(update, text, keyboard, edit=True)


async def chose_end(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    if "day" not in form or "from" not in form:
        await expired_button(update, context)
        return
    start = int(form["from"])
    if not start < value <= LAST_HOUR * 60:
        await expired_button(update, context)
        return
    windows = merged([*windows_of(form), WindowView(int(form["day"]), start, value)])
    form = {
        "mode": form.get("mode", "register"),
        "windows": [[w.weekday, w.start_minute, w.end_minute] for w in windows][:MAX_WINDOWS],
        **({"calls": form["calls"]} if "calls" in form else {}),
        **({"interests": form["interests"]} if "interests" in form else {}),
    }
    await save(update, context, form)
    await show_times(update, context, form)


async def show_times(update: Update, context: CuppaContext, form: Form) -> None:
    times = "\n".join(f"• {window_text(w)}" for w in windows_of(form))
    keyboard = [
        [Button("Add another time", va.ADD_TIME), Button("That's all", va.TIMES_DONE)],
        nav(va.UNDO_TIME),
    ]
    text = f"Your times so far:\n{times}\n\nAre you free at any other times?"
    await reply(update, text, keyboard, edit=True)


async def times_so_far(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    if not form.get("windows"):
        await ask_day(update, context, form)
    else:
        await show_times(update, context, form)


async def add_time(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    await ask_day(update, context, form)


async def undo_time(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    """Back from the times so far: take off the last time and ask its end again."""
    windows = list(form.get("windows", []))
    if not windows:
        await ask_day(update, context, form)
        return
    weekday, start, _ = windows.pop()
    if not FIRST_HOUR * 60 <= start <= LAST_START_HOUR * 60:
        start = FIRST_HOUR * 60
    form = {**form, "windows": windows, "day": weekday, "from": start}
    await save(update, context, form)
    await ask_end(update, context, form)


async def times_done(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    """That's all: a change of times is saved; a sign-up goes on to calls a week."""
    windows = windows_of(form)
    if not windows:
        await ask_day(update, context, form)
        return
    if form.get("mode") == "change":
        person = await context.person()
        assert person is not None
        updated = await context.services.volunteers.set_windows(person.id, windows)
        await context.services.dialogs.clear(user_id(update))
        if updated is None:
            await expired_button(update, context)
            return
        times = "\n".join(f"• {window_text(w)}" for w in updated.windows)
        await reply(
            update,
            f"Thank you, I've changed your times:\n{times}\n\nI'll offer you calls that fit them.",
            HOME_AND_MENU,
            edit=True,
        )
        return
    buttons = [Button(str(n), va.calls_per_week(n)) for n in range(1, va.MAX_CALLS + 1)]
    await reply(
        update,
        "How many calls could you make in a week, at most? Each call is about "
        f"{context.services.config.reading_friends.call_minutes} minutes.",
        [buttons, nav(va.TIMES_SO_FAR)],
        edit=True,
    )


async def chose_calls(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    if not form.get("windows"):
        await expired_button(update, context)
        return
    form = {**form, "calls": value}
    await save(update, context, form)
    await ask_interests(update, form)


async def ask_interests(update: Update, form: Form) -> None:
    chosen = set(form.get("interests", []))
    keyboard = [
        *tick_boxes(INTERESTS, chosen, va.interest),
        [Button("Done", va.INTERESTS_DONE)],
        nav(va.TIMES_DONE),
    ]
    await reply(
        update,
        "What do you enjoy reading or talking about? Tap all that apply, then Done.",
        keyboard,
        edit=True,
    )


async def toggle_interest(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    if "calls" not in form:
        await expired_button(update, context)
        return
    chosen = list(form.get("interests", []))
    chosen = [c for c in chosen if c != value] if value in chosen else [*chosen, value]
    form = {**form, "interests": [code for code in INTERESTS if code in chosen]}
    await save(update, context, form)
    await ask_interests(update, form)


async def interests_done(update: Update, context: CuppaContext, form: Form, value: Any) -> None:
    """Sign up: staff are asked to approve."""
    if not form.get("windows") or "calls" not in form:
        await expired_button(update, context)
        return
    person = await context.person()
    assert person is not None
    registered = await context.services.volunteers.register(
        person.id, windows_of(form), int(form["calls"]), list(form.get("interests", []))
    )
    await context.services.dialogs.clear(user_id(update))
    if registered is None:
        await show_home(update, context)
        return
    await reply(update, THANKS_FOR_REGISTERING, HOME_AND_MENU, edit=True)


FORM_STEPS = {
    "d": chose_day,
    "f": chose_start,
    "u": chose_end,
    "a": add_time,
    "z": undo_time,
    "w": times_so_far,
    "e": times_done,
    "c": chose_calls,
    "i": toggle_interest,
    "k": interests_done,
}
