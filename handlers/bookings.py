"""/mybookings: upcoming bookings, cancelling one (with a confirmation), and calendar files."""

from __future__ import annotations

from telegram import InputFile, Update

from bot import actions
from bot.clock import format_when
from bot.services.calendar import booking_calendar
from bot.services.views import Button, Keyboard
from bot.wording import booking_text
from handlers.common import MENU_BUTTON, reply
from handlers.context import CuppaContext

MAX_LISTED = 8


async def my_bookings(update: Update, context: CuppaContext) -> None:
    """List upcoming bookings, each with Cancel and Add to calendar."""
    person = await context.person()
    bookings = await context.services.bookings.upcoming(person.id) if person else []
    find = [Button("Find a session", actions.Browse().data())]
    if not bookings:
        await reply(update, "You have no upcoming bookings.", [find, [MENU_BUTTON]])
        return
    tz = context.services.config.tz
    shown = bookings[:MAX_LISTED]
    blocks = [f"{n}. {booking_text(b, tz)}" for n, b in enumerate(shown, start=1)]
    if len(bookings) > MAX_LISTED:
        blocks.append(f"…and {len(bookings) - MAX_LISTED} more after these.")
    keyboard: Keyboard = []
    for number, booking in enumerate(shown, start=1):
        row = [Button(f"Cancel {number}", actions.cancel_booking(booking.id))]
        if booking.is_booked:
            row.append(Button(f"Calendar {number}", actions.calendar(booking.id)))
        keyboard.append(row)
    keyboard += [find, [MENU_BUTTON]]
    await reply(update, "Your bookings:\n\n" + "\n\n".join(blocks), keyboard)


async def cancel_button(update: Update, context: CuppaContext) -> None:
    """Ask before cancelling: a mistaken tap should not lose someone their place."""
    booking_id = actions.parse_id(update.callback_query.data, "cx")  # type: ignore[union-attr]
    person = await context.person()
    booking = None
    if booking_id is not None and person is not None:
        booking = await context.services.bookings.get_own(person.id, booking_id)
    if booking is None:
        await booking_not_found(update, context)
        return
    when = format_when(booking.session.starts_at, context.services.config.tz)
    what = "your place" if booking.is_booked else "your place on the waiting list"
    keyboard = [
        [Button("Yes, cancel it", actions.confirm_cancel(booking.id))],
        [Button("No, keep it", actions.MY_BOOKINGS)],
    ]
    await reply(
        update, f"Cancel {what} at {booking.session.activity}, {when}?", keyboard, edit=True
    )


async def confirm_cancel_button(update: Update, context: CuppaContext) -> None:
    booking_id = actions.parse_id(update.callback_query.data, "cy")  # type: ignore[union-attr]
    person = await context.person()
    if booking_id is None or person is None:
        await booking_not_found(update, context)
        return
    outcome = await context.services.bookings.cancel(person.id, booking_id)
    if outcome.result == "started":
        text = "That session has already started, so it can't be cancelled now."
    elif outcome.result != "cancelled":
        await booking_not_found(update, context)
        return
    else:
        text = "Done: I've cancelled that. Thank you for letting us know."
    keyboard = [[Button("My bookings", actions.MY_BOOKINGS)], [MENU_BUTTON]]
    await reply(update, text, keyboard, edit=True)


async def calendar_button(update: Update, context: CuppaContext) -> None:
    """Send an .ics file for one of the person's own booked places."""
    booking_id = actions.parse_id(update.callback_query.data, "ic")  # type: ignore[union-attr]
    person = await context.person()
    booking = None
    if booking_id is not None and person is not None:
        booking = await context.services.bookings.get_own(person.id, booking_id)
    if booking is None or not booking.is_booked:
        await booking_not_found(update, context)
        return
    services = context.services
    content = booking_calendar(booking, services.config.service.name, services.clock())
    day = booking.session.starts_at.astimezone(services.config.tz).date().isoformat()
    filename = f"{booking.session.activity.lower().replace(' ', '-')}-{day}.ics"
    await update.effective_chat.send_document(  # type: ignore[union-attr]
        InputFile(content, filename=filename),
        caption="Open this file to add the session to your calendar.",
    )


async def booking_not_found(update: Update, context: CuppaContext) -> None:
    """Someone else's, cancelled or made-up booking: say so kindly and show their own."""
    await reply(update, "Sorry, I can't find that booking. It may have been cancelled already.")
    await my_bookings(update, context)


COMMANDS = [("mybookings", my_bookings)]
BUTTONS = [
    (rf"^{actions.MY_BOOKINGS}$", my_bookings),
    (r"^cx:", cancel_button),
    (r"^cy:", confirm_cancel_button),
    (r"^ic:", calendar_button),
]
