"""Reminders: choosing when to be reminded (in settings), and the day-before reminder's
"Still coming?" buttons: Yes, or I can't make it (which gives the place to the waiting list)."""

from __future__ import annotations

from telegram import Update

from bot import actions, resident_actions
from bot.clock import format_when
from bot.services.reminders import CHOICES, describe_offsets
from bot.services.views import Button, Keyboard, PersonView
from handlers.bookings import booking_not_found
from handlers.common import MENU_BUTTON, back_and_menu, expired_button, reply
from handlers.consent import ask_consent
from handlers.context import CuppaContext


def current_offsets(context: CuppaContext, person: PersonView) -> tuple[int, ...]:
    if person.reminder_offsets is None:
        return context.services.config.reminders.offsets_minutes
    return person.reminder_offsets


def reminders_line(context: CuppaContext, person: PersonView) -> str:
    """The settings screen's line about reminders."""
    offsets = current_offsets(context, person)
    return f"Reminders: {describe_offsets(offsets) if offsets else 'off'}"


def settings_rows() -> Keyboard:
    return [[Button("Reminders", actions.REMINDERS)]]


async def reminders_button(update: Update, context: CuppaContext) -> None:
    """Say when reminders come now, and offer the choices."""
    person = await context.person()
    if person is None:
        await ask_consent(update, context, lead="I don't hold any settings for you yet.")
        return
    offsets = current_offsets(context, person)
    if offsets:
        text = (
            f"At the moment I remind you {describe_offsets(offsets)} each session you've "
            "booked. When would you like reminders?"
        )
    else:
        text = "At the moment I don't send you reminders. Would you like some?"
    keyboard: Keyboard = [
        [Button(label, actions.reminder_choice(code))] for code, (label, _) in CHOICES.items()
    ]
    keyboard.append(back_and_menu(actions.SETTINGS))
    await reply(update, text, keyboard, edit=True)


async def choice_button(update: Update, context: CuppaContext) -> None:
    """Keep the new choice and redo the reminders of every upcoming booking."""
    code = resident_actions.parse_reminder_choice(update.callback_query.data or "")  # type: ignore[union-attr]
    person = await context.person()
    if person is None:
        await ask_consent(update, context, lead="I don't hold any settings for you yet.")
        return
    if code is None:
        await expired_button(update, context)
        return
    offsets = CHOICES[code][1]
    if not await context.services.bookings.set_reminders(person.id, offsets):
        await expired_button(update, context)
        return
    effective = context.services.config.reminders.offsets_minutes if offsets is None else offsets
    if effective:
        text = (
            f"Done: I'll remind you {describe_offsets(effective)} each session, "
            "including the ones you've already booked."
        )
    else:
        text = "Done: no more reminders. You can turn them back on here at any time."
    await reply(update, text, [back_and_menu(actions.SETTINGS)], edit=True)


async def still_coming_button(update: Update, context: CuppaContext) -> None:
    """Yes, I'll be there: a warm word back, and nothing changes."""
    booking_id = actions.parse_id(update.callback_query.data or "", "rc")  # type: ignore[union-attr]
    person = await context.person()
    booking = None
    if booking_id is not None and person is not None:
        booking = await context.services.bookings.get_own(person.id, booking_id)
    if person is None or booking is None or not booking.is_booked:
        await booking_not_found(update, context)
        return
    name = f", {person.first_name}" if person.first_name else ""
    keyboard = [[Button("My bookings", actions.MY_BOOKINGS)], [MENU_BUTTON]]
    await reply(
        update, f"Lovely, thank you{name}. See you at {booking.session.activity}!", keyboard
    )


async def cannot_come_button(update: Update, context: CuppaContext) -> None:
    """I can't make it: cancel the place, so the first person waiting gets it."""
    booking_id = actions.parse_id(update.callback_query.data or "", "rx")  # type: ignore[union-attr]
    person = await context.person()
    if booking_id is None or person is None:
        await booking_not_found(update, context)
        return
    outcome = await context.services.bookings.cancel(person.id, booking_id)
    keyboard = [
        [Button("Find another session", actions.Browse().data())],
        [Button("My bookings", actions.MY_BOOKINGS)],
        [MENU_BUTTON],
    ]
    if outcome.result == "started":
        await reply(
            update,
            "That session has already started, so there's nothing to cancel. "
            "I hope to see you another time.",
            keyboard,
        )
        return
    if outcome.result != "cancelled" or outcome.session is None:
        await booking_not_found(update, context)
        return
    when = format_when(outcome.session.starts_at, context.services.config.tz)
    await reply(
        update,
        f"Thank you for letting us know. I've cancelled your place at {outcome.session.activity}"
        f", {when}, so someone else can have it. I hope to see you another time.",
        keyboard,
    )


COMMANDS: list[tuple[str, object]] = []
BUTTONS = [
    (rf"^{actions.REMINDERS}$", reminders_button),
    (r"^rm:", choice_button),
    (r"^rc:", still_coming_button),
    (r"^rx:", cannot_come_button),
]
