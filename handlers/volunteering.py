"""Volunteering with Reading Friends: /volunteer, signing up one question at a time (the times
each week, how many calls, interests), the volunteer's own screen (status, my calls, change my
times, pause for a holiday), answering call offers, logging calls, and staff approving or
rejecting new volunteers.

The sign-up form's answers live in Dialogs (flow "volunteer"), as do the three typed answers:
the date back from a holiday ("volunteer_pause"), a note about a worrying call ("call_concern")
and, for staff, the date of a volunteer's checks ("approve_volunteer"). A reader's phone number
is only ever shown by the call desk, to the volunteer who accepted the call, around the call.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from telegram import Update

from bot import actions
from bot import volunteer_actions as va
from bot.clock import add_months, format_day, format_when
from bot.services.calls import Accepted, VolunteerCall, interests_text, log_keyboard
from bot.services.readers import INTERESTS
from bot.services.views import Button, Keyboard, PersonView, VolunteerView, WindowView
from bot.services.volunteers import WEEKDAYS, window_text
from handlers.common import MENU_BUTTON, expired_button, reply, show_menu, staff_only
from handlers.consent import ask_consent
from handlers.context import CuppaContext
from handlers.forms import button_data, rows_of, tick_boxes, typed_text, user_id, wants_to_leave

FLOW = "volunteer"
PAUSE_FLOW = "volunteer_pause"
CONCERN_FLOW = "call_concern"
APPROVE_FLOW = "approve_volunteer"

FIRST_HOUR, LAST_START_HOUR, LAST_HOUR = 9, 19, 21  # times offered: from 9am-7pm, until 9pm
MAX_WINDOWS = 14
FURTHEST_PAUSE = timedelta(days=365)

EXPLANATION = (
    "Reading Friends volunteers phone someone who is housebound, for a chat or to read to "
    "them, at times that suit you.\n"
    "Tell me when you're free each week; library staff then check a few things (including a "
    "DBS check) before your first call."
)
THANKS_FOR_REGISTERING = (
    "Thank you. Library staff will check a few things (including a DBS check) and let you know."
)
GONE = "That offer has already been taken or has expired. Thank you anyway."
NOT_YOURS_TO_LOG = "That call has already been logged, or isn't one of yours. Thank you anyway."

# In the volunteer's screens Menu also closes any open form, so later typing isn't an answer.
LEAVE_BUTTON = Button("Menu", va.LEAVE)
HOME_BUTTON = Button("My volunteering", va.HOME)
HOME_AND_MENU: Keyboard = [[HOME_BUTTON], [MENU_BUTTON]]

Form = dict[str, Any]  # the sign-up (or change of times) form's answers so far


# ---------------------------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------------------------


def nav(back: str | None) -> list[Button]:
    return [Button("Back", back), LEAVE_BUTTON] if back else [LEAVE_BUTTON]


def today(context: CuppaContext) -> date:
    return context.services.clock().astimezone(context.services.config.tz).date()


def hour_text(minute: int) -> str:
    hour, rest = divmod(minute, 60)
    shown = f"{hour % 12 or 12}" + (f":{rest:02d}" if rest else "")
    return shown + ("am" if hour < 12 else "pm")


def checks_run_out(context: CuppaContext, checks_on: date) -> date:
    return checks_on + timedelta(days=context.services.config.reading_friends.checks_valid_days)


async def person_or_consent(update: Update, context: CuppaContext) -> PersonView | None:
    """The speaker's profile; without one, ask for consent first and return None."""
    person = await context.person()
    if person is None:
        await ask_consent(
            update,
            context,
            lead="I'd be glad to tell you about volunteering with Reading Friends. "
            "First, a quick question.",
        )
    return person


async def leave(update: Update, context: CuppaContext) -> None:
    """Close any open form and show the menu."""
    await context.services.dialogs.clear(user_id(update))
    await show_menu(update, context)


# ---------------------------------------------------------------------------------------------
# /volunteer and the volunteer's own screen
# ---------------------------------------------------------------------------------------------


async def volunteer_command(update: Update, context: CuppaContext) -> None:
    """Show someone their volunteering, or how to sign up: /volunteer."""
    await show_home(update, context, edit=False)


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


async def volunteer_button(update: Update, context: CuppaContext) -> None:
    """Every vo button: the volunteer's screen, the sign-up form, calls, pausing."""
    action = va.parse(button_data(update))
    if action is None:
        await expired_button(update, context)
        return
    if action.verb == "x":
        await leave(update, context)
        return
    if action.verb == "":
        await show_home(update, context)
        return
    person = await person_or_consent(update, context)
    if person is None:
        return
    if action.verb in FORM_STEPS:
        form = await open_form(update, context)
        if form is None:
            await expired_button(update, context)
        else:
            await FORM_STEPS[action.verb](update, context, form, action.value)
        return
    volunteer = await context.services.volunteers.by_person(person.id)
    if volunteer is None:
        await show_home(update, context)
    elif action.verb == "m":
        await my_calls(update, context, person.id)
    elif action.verb == "h":
        await ask_how_it_went(update, context, person.id, int(action.value or 0))
    elif action.verb == "n":
        await log_concern(update, context, person.id, int(action.value or 0), "")
    elif action.verb == "t":
        form = {"mode": "change", "windows": []}
        await save(update, context, form)
        await ask_day(update, context, form, "Let's set your times again.")
    elif action.verb == "p":
        await pause(update, context, person.id, action.value)
    else:  # "r"
        await context.services.volunteers.pause(person.id, None)
        await reply(
            update,
            "Welcome back! I'll start offering you calls again.",
            HOME_AND_MENU,
            edit=True,
        )
        await context.services.calls.run_matching()


# ---------------------------------------------------------------------------------------------
# Signing up, and changing one's times (Dialogs flow "volunteer")
# ---------------------------------------------------------------------------------------------


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


async def save(update: Update, context: CuppaContext, form: Form) -> None:
    await context.services.dialogs.set(user_id(update), FLOW, form)


async def ask_day(
    update: Update, context: CuppaContext, form: Form, lead: str = "", edit: bool = True
) -> None:
    buttons = [Button(name, va.day(number)) for number, name in enumerate(WEEKDAYS)]
    back = va.TIMES_SO_FAR if form.get("windows") else None
    if back is None and form.get("mode") == "change":
        back = va.HOME
    keyboard = [*rows_of(buttons, 2), nav(back)]
    question = "Which day of the week are you free to make calls?"
    if form.get("windows"):
        question = "Which other day are you free?"
    await reply(update, f"{lead}\n\n{question}".strip(), keyboard, edit=edit)


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


# ---------------------------------------------------------------------------------------------
# Pausing for a holiday (typed date: Dialogs flow "volunteer_pause")
# ---------------------------------------------------------------------------------------------


def back_dates(context: CuppaContext) -> dict[str, tuple[str, date]]:
    now = today(context)
    return {
        "1w": ("In 1 week", now + timedelta(days=7)),
        "2w": ("In 2 weeks", now + timedelta(days=14)),
        "1m": ("In a month", add_months(now, 1)),
    }


async def pause(update: Update, context: CuppaContext, person_id: int, choice: Any) -> None:
    """Ask when calls should start again, or pause until the date chosen."""
    choices = back_dates(context)
    if choice is None:
        await context.services.dialogs.clear(user_id(update))
        keyboard: Keyboard = [
            [Button(f"{label} ({format_day(back)})", va.pause_for(code))]
            for code, (label, back) in choices.items()
        ]
        keyboard += [[Button("Type a date", va.pause_for(va.TYPE_DATE))], nav(va.HOME)]
        await reply(update, "When would you like calls to start again?", keyboard, edit=True)
    elif choice == va.TYPE_DATE:
        await context.services.dialogs.set(user_id(update), PAUSE_FLOW, {})
        await reply(
            update,
            "Please type the date you'd like calls to start again, like "
            f"{(today(context) + timedelta(days=21)):%d/%m/%Y}.",
            [nav(va.PAUSE)],
            edit=True,
        )
    else:
        await pause_until(update, context, person_id, choices[choice][1])


async def pause_until(update: Update, context: CuppaContext, person_id: int, back: date) -> None:
    await context.services.dialogs.clear(user_id(update))
    # The service pauses through `paused_until`; calls start again the day after.
    await context.services.volunteers.pause(person_id, back - timedelta(days=1))
    phone = context.services.config.service.phone
    await reply(
        update,
        f"Paused until {format_day(back)}: I won't offer you new calls before then. Enjoy your "
        f"break! Calls you've already accepted still stand; if you can't make one, please call "
        f"{phone}.",
        HOME_AND_MENU,
        edit=update.callback_query is not None,
    )


async def typed_pause_date(update: Update, context: CuppaContext) -> None:
    """The date calls start again, typed."""
    text = typed_text(update)
    if wants_to_leave(text):
        await leave(update, context)
        return
    person = await context.person()
    volunteer = await context.services.volunteers.by_person(person.id) if person else None
    if person is None or volunteer is None:
        await leave(update, context)
        return
    back = va.parse_typed_date(text)
    first = today(context)
    example = f"{(first + timedelta(days=21)):%d/%m/%Y}"
    problem = None
    if back is None:
        problem = f"Sorry, I couldn't read that date. Please type it like {example}."
    elif back <= first:
        problem = f"That date has already come. Please type a date after today, like {example}."
    elif back > first + FURTHEST_PAUSE:
        problem = "That's more than a year away. Please type a date within the next year."
    if problem is not None:
        await reply(update, problem, [nav(va.PAUSE)])
        return
    assert back is not None
    await pause_until(update, context, person.id, back)


# ---------------------------------------------------------------------------------------------
# My calls, offers and logging calls
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Staff: approving (with the date of the checks) or rejecting a new volunteer
# ---------------------------------------------------------------------------------------------


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


COMMANDS = [("volunteer", volunteer_command)]
BUTTONS = [
    (r"^vo(:|$)", volunteer_button),
    (r"^o[ad]:", offer_button),
    (r"^lg:", log_button),
    (r"^v[ar]:", staff_button),
]
TYPED = {
    PAUSE_FLOW: typed_pause_date,
    CONCERN_FLOW: typed_concern,
    APPROVE_FLOW: typed_checks_date,
}
