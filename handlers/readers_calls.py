"""A reader's calls: booking one (once or weekly: day, time, repeat), the next calls and
cancelling one, pausing and starting again, and asking for a different volunteer.

Each callback gets a reader already checked against the person asking (their contact, or
staff) by readers_home's router, through READER_ACTIONS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from telegram import Update

from bot import reader_actions as ra
from bot.clock import at_local, format_day, format_time, format_when
from bot.services.views import Button, ReaderView
from handlers.common import MENU_BUTTON, reply
from handlers.context import CuppaContext
from handlers.forms import joined, rows_of
from handlers.readers_common import (
    acting_staff,
    ask_yes_no,
    call_line,
    calls_word,
    cant_find,
    match_now,
    refreshed,
    show_reader,
)

MAX_LISTED = 8

TIMES_PER_ROW = 3

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def free_times(context: CuppaContext, reader: ReaderView) -> list[datetime]:
    """Free call times in the booking window, without those this reader already has."""
    taken = {call.starts_at for call in await context.services.readers.calls(reader.id)}
    return [slot for slot in await context.services.readers.free_slots() if slot not in taken]


def local(context: CuppaContext, moment: datetime) -> datetime:
    return moment.astimezone(context.services.config.tz)


async def choose_day(
    update: Update,
    context: CuppaContext,
    reader: ReaderView,
    values: tuple[Any, ...] = (),
    lead: str = "",
) -> None:
    """The days in the booking window with a volunteer free."""
    if reader.paused:
        lead = joined(lead, f"{reader.first_name}'s calls are paused: tap Start calls again first.")
        await show_reader(update, context, reader, lead)
        return
    slots = await free_times(context, reader)
    days = sorted({local(context, slot).date() for slot in slots})
    back = [Button("Back", ra.reader(reader.id)), MENU_BUTTON]
    if not days:
        phone = context.services.config.service.phone
        text = joined(
            lead,
            "Sorry, no volunteers are free in the next two weeks. Please try again in a few "
            f"days, or call us on {phone} and we'll help.",
        )
        await reply(update, text, [back], edit=True)
        return
    keyboard = rows_of([Button(format_day(day), ra.day(reader.id, day)) for day in days], 2)
    keyboard.append(back)
    text = joined(lead, f"Which day would suit {reader.first_name} for a call?")
    await reply(update, text, keyboard, edit=True)


async def choose_time(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    """The free times on one day."""
    day = values[0]
    assert isinstance(day, date)
    slots = [s for s in await free_times(context, reader) if local(context, s).date() == day]
    if not slots:
        lead = f"Sorry, there are no free times left on {format_day(day)}."
        await choose_day(update, context, reader, lead=lead)
        return
    buttons = [
        Button(format_time(local(context, slot)), ra.how_often(reader.id, local(context, slot)))
        for slot in slots
    ]
    keyboard = rows_of(buttons, TIMES_PER_ROW)
    keyboard.append([Button("Back", ra.book(reader.id)), MENU_BUTTON])
    minutes = context.services.config.reading_friends.call_minutes
    await reply(
        update,
        f"What time on {format_day(day)}? Calls last about {minutes} minutes.",
        keyboard,
        edit=True,
    )


async def still_free(
    update: Update, context: CuppaContext, reader: ReaderView, wall: Any
) -> datetime | None:
    """The UTC time of a local slot from a button if it can still be booked; if not, say why
    and show the days again."""
    assert isinstance(wall, datetime)
    starts = at_local(wall.date(), wall.time(), context.services.config.tz)
    booked = {call.starts_at for call in await context.services.readers.calls(reader.id)}
    if starts in booked:
        lead = f"{reader.first_name} already has a call booked then."
    elif reader.paused or starts not in await context.services.readers.free_slots():
        lead = "Sorry, that time isn't free any more. Please choose another."
    else:
        return starts
    await choose_day(update, context, reader, lead=lead)
    return None


async def choose_repeat(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    starts = await still_free(update, context, reader, values[0])
    if starts is None:
        return
    wall = local(context, starts)
    keyboard = [
        [Button("Just this once", ra.book_once(reader.id, wall))],
        [Button("Every week at this time", ra.book_weekly(reader.id, wall))],
        [Button("Back", ra.day(reader.id, wall.date())), MENU_BUTTON],
    ]
    await reply(
        update,
        f"{format_when(starts, context.services.config.tz)}: just this once, or every week at "
        "this time?",
        keyboard,
        edit=True,
    )


async def book_call(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    """Book the call, start matching at once, and say what happens next."""
    weekly = update.callback_query.data.startswith("rf:e:")  # type: ignore[union-attr]
    services = context.services
    starts = await still_free(update, context, reader, values[0])
    if starts is None:
        return
    staff_id = await acting_staff(context, reader)
    call = await services.readers.book(reader.id, starts, weekly, staff_id=staff_id)
    if call is None:
        lead = "Sorry, that time isn't free any more. Please choose another."
        await choose_day(update, context, reader, lead=lead)
        return
    await match_now(context, "a new call booking")  # the booking stands whatever happens
    tz = services.config.tz
    when = format_when(call.starts_at, tz)
    repeat = ""
    if weekly:
        wall = local(context, call.starts_at)
        repeat = f", then every {WEEKDAY_NAMES[wall.weekday()]} at {format_time(wall)}"
    tell = "I'll message you." if reader.contact_person_id else "I'll tell library staff."
    keyboard = [
        [Button("Next calls", ra.next_calls(reader.id))],
        [Button("Book another call", ra.book(reader.id))],
        [MENU_BUTTON],
    ]
    await reply(
        update,
        f"Booked: {when}{repeat}. A volunteer will be confirmed soon; {tell}",
        keyboard,
        edit=True,
    )


async def show_reader_button(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    await show_reader(update, context, reader)


async def list_calls(
    update: Update,
    context: CuppaContext,
    reader: ReaderView,
    values: tuple[Any, ...] = (),
    lead: str = "",
) -> None:
    calls = await context.services.readers.calls(reader.id)
    back = [Button("Back", ra.reader(reader.id)), MENU_BUTTON]
    book_row = [Button("Book a call", ra.book(reader.id))] if not reader.paused else []
    if not calls:
        text = joined(lead, f"{reader.first_name} has no calls booked.")
        await reply(update, text, [row for row in (book_row, back) if row], edit=True)
        return
    shown = calls[:MAX_LISTED]
    lines = [f"{n}. {call_line(context, call)}" for n, call in enumerate(shown, start=1)]
    if len(calls) > MAX_LISTED:
        lines.append(f"…and {len(calls) - MAX_LISTED} more after these.")
    buttons = [
        Button(f"Cancel {n}", ra.cancel_call(reader.id, call.id))
        for n, call in enumerate(shown, start=1)
    ]
    keyboard = rows_of(buttons, 3)
    keyboard += [row for row in (book_row, back) if row]
    text = joined(lead, f"{reader.first_name}'s next calls:\n" + "\n".join(lines))
    await reply(update, text, keyboard, edit=True)


async def ask_cancel(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    call_id = values[0]
    calls = {call.id: call for call in await context.services.readers.calls(reader.id)}
    call = calls.get(call_id)  # type: ignore[call-overload]
    if call is None:
        await cant_find(update, context)
        return
    when = format_when(call.starts_at, context.services.config.tz)
    more = " Just this one: the weekly calls after it stay booked." if call.weekly else ""
    await ask_yes_no(
        update,
        f"Cancel {reader.first_name}'s call on {when}?{more}",
        Button("Yes, cancel it", ra.confirm_cancel(reader.id, call.id)),
        Button("No, keep it", ra.next_calls(reader.id)),
    )


async def cancel(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    call_id = values[0]
    assert isinstance(call_id, int)
    staff_id = await acting_staff(context, reader)
    call = await context.services.readers.cancel_call(reader.id, call_id, staff_id=staff_id)
    if call is None:
        await cant_find(update, context)
        return
    when = format_when(call.starts_at, context.services.config.tz)
    await list_calls(update, context, reader, lead=f"Done: I've cancelled the call on {when}.")


async def ask_pause(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    if reader.paused:
        await show_reader(update, context, reader, "Those calls are already paused.")
        return
    await ask_yes_no(
        update,
        f"Pause all of {reader.first_name}'s calls? Booked calls will be cancelled and weekly "
        "calls stopped. You can start again at any time.",
        Button("Yes, pause all calls", ra.confirm_pause(reader.id)),
        Button("No, keep them", ra.reader(reader.id)),
    )


async def do_pause(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    staff_id = await acting_staff(context, reader)
    readers = context.services.readers
    stopped = await readers.pause(reader.id, staff_id=staff_id) if not reader.paused else 0
    cancelled = f" I've cancelled {calls_word(stopped)}." if stopped else ""
    lead = (
        f"Done: {reader.first_name}'s calls are paused.{cancelled} "
        "Tap Start calls again whenever you're ready."
    )
    await show_reader(update, context, await refreshed(context, reader), lead)


async def do_resume(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    await context.services.readers.resume(reader.id, staff_id=await acting_staff(context, reader))
    lead = f"{reader.first_name}'s calls can start again. Book a call whenever you like."
    await show_reader(update, context, await refreshed(context, reader), lead)


async def ask_different(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    await ask_yes_no(
        update,
        f"Ask for a different volunteer for {reader.first_name}? Their booked calls will go to "
        "someone new, and won't be offered to the current volunteer again.",
        Button("Yes, please", ra.confirm_different_volunteer(reader.id)),
        Button("No, keep things as they are", ra.reader(reader.id)),
    )


async def do_different(
    update: Update, context: CuppaContext, reader: ReaderView, values: tuple[Any, ...]
) -> None:
    services = context.services
    staff_id = await acting_staff(context, reader)
    moved = await services.readers.different_volunteer(reader.id, staff_id=staff_id)
    if moved:
        await match_now(context, "asking for a different volunteer")  # the calls are open again
        tell = "message you when" if reader.contact_person_id else "tell staff when"
        lead = (
            f"Done: I'll look for a different volunteer for {reader.first_name}'s calls, and "
            f"{tell} someone is confirmed."
        )
    else:
        phone = services.config.service.phone
        lead = (
            f"{reader.first_name} has no calls with a volunteer just now, so there's nothing "
            f"to change yet. If something isn't right, please call us on {phone}."
        )
    await show_reader(update, context, reader, lead)


ReaderCallback = Callable[[Update, CuppaContext, ReaderView, tuple[Any, ...]], Awaitable[None]]

READER_ACTIONS: dict[str, ReaderCallback] = {
    "rf:v": show_reader_button,
    "rf:k": choose_day,
    "rf:d": choose_time,
    "rf:t": choose_repeat,
    "rf:o": book_call,
    "rf:e": book_call,
    "rf:l": list_calls,
    "rf:x": ask_cancel,
    "rf:y": cancel,
    "rf:p": ask_pause,
    "rf:py": do_pause,
    "rf:s": do_resume,
    "rf:a": ask_different,
    "rf:ay": do_different,
}
