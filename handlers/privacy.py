"""/privacy, /mydata and /forgetme: what is kept and why, a copy of it all, and erasing it.
Staff can also erase a Reading Friends reader they registered for someone without Telegram.

Button data (all "pf:"): pf:d send my data, pf:f ask to forget me, pf:y yes, forget me,
pf:l staff's list of readers without Telegram, pf:r:<reader id> staff asks to erase one,
pf:x:<reader id> staff confirms. Erasing always asks first; the staff ones are `staff_only`.
"""

from __future__ import annotations

from telegram import InputFile, Update

from bot import actions
from bot.services.views import Button, Keyboard
from handlers.common import MENU_BUTTON, expired_button, reply, show_menu, staff_only
from handlers.context import CuppaContext

SEND_DATA = "pf:d"
ASK_FORGET = "pf:f"
FORGET = "pf:y"
STAFF_READERS = "pf:l"
MAX_LISTED = 30


def erase_reader(reader_id: int) -> str:
    return f"pf:r:{reader_id}"


def confirm_erase_reader(reader_id: int) -> str:
    return f"pf:x:{reader_id}"


def period(days: int) -> str:
    """365 → 'a year', 730 → '2 years', 90 → '3 months', 10 → '10 days'."""
    for size, word in ((365, "year"), (30, "month"), (7, "week")):
        if days % size == 0:
            count = days // size
            return f"a {word}" if count == 1 else f"{count} {word}s"
    return "a day" if days == 1 else f"{days} days"


async def privacy_command(update: Update, context: CuppaContext) -> None:
    """What is kept, why, for how long, and who sees it: /privacy and the Privacy button."""
    config = context.services.config
    keep = config.retention
    text = "\n\n".join(
        [
            "Your privacy",
            "What I keep: your first name and Telegram account, your bookings, your home "
            "library, what you follow and your reminder choices. If you use Reading Friends: "
            "the name, phone number, interests and needs of each reader you register, and "
            "their calls. If you volunteer: your times and the calls you take.",
            "Why: to hold your place, remind you, tell you about changes and arrange calls. We "
            "also count how many people come; those counts never name anyone.",
            "How long: until you ask us to delete it. Even then, volunteers' notes about a call "
            f"are cleared after {period(keep.call_notes_days)}, records of messages I've sent "
            f"after {period(keep.delivery_days)}, and your name comes off past bookings after "
            f"{period(keep.past_bookings_days)}.",
            "Who sees it: library staff. A reader's phone number is shown only to the volunteer "
            "taking their call, and only around the time of the call. Nothing is shared with "
            "anyone else. If you share your location it's only used there and then to find "
            "nearby libraries; it isn't kept.",
            "Send /mydata for a copy of everything I keep about you, or /forgetme to delete it. "
            f"Questions? Call us on {config.service.phone}.",
        ]
    )
    keyboard: Keyboard = []
    if await context.person() is None:
        keyboard.append([Button("Yes, that's fine", actions.consent_yes())])
    else:
        keyboard.append([Button("Send me my data", SEND_DATA)])
        keyboard.append([Button("Delete my data", ASK_FORGET)])
    keyboard.append([MENU_BUTTON])
    await reply(update, text, keyboard)


async def nothing_held(update: Update, context: CuppaContext) -> None:
    await show_menu(
        update,
        context,
        "I don't keep anything about you, so there's nothing to send or delete. "
        "What would you like to do?",
    )


async def my_data(update: Update, context: CuppaContext) -> None:
    """/mydata: everything held about the person, as a text file."""
    person = await context.person()
    document = await context.services.privacy.export(person.id) if person else ""
    if not document:
        await nothing_held(update, context)
        return
    await update.effective_chat.send_document(  # type: ignore[union-attr]
        InputFile(document.encode("utf-8"), filename="cuppa-my-data.txt"),
        caption="Here's everything I keep about you. Open the file to read it.",
    )
    await show_menu(update, context, "Is there anything else I can help with?")


async def forget_me(update: Update, context: CuppaContext) -> None:
    """/forgetme: ask first, with what will go."""
    person = await context.person()
    if person is None:
        await nothing_held(update, context)
        return
    text = (
        "Are you sure? I'll delete everything I keep about you: your details, your bookings "
        "(your places in sessions still to come will go to other people), what you follow, "
        "and any Reading Friends readers or volunteering. This can't be undone.\n\n"
        "We'll keep only counts of how many people came, which don't name anyone."
    )
    keyboard = [
        [Button("Yes, delete everything", FORGET)],
        [Button("No, keep it", actions.MENU)],
    ]
    await reply(update, text, keyboard, edit=update.callback_query is not None)


async def forget_confirmed(update: Update, context: CuppaContext) -> None:
    person = await context.person()
    if person is None or not await context.services.privacy.forget(person.id):
        await nothing_held(update, context)
        return
    context.remember(None)
    name = f", {person.first_name}" if person.first_name else ""
    await reply(
        update,
        f"Done. I've deleted everything I kept about you{name}. Thank you for using Cuppa, "
        "and take care.\n\nIf you'd like to come back, just send /start. To talk to someone, "
        f"call us on {context.services.config.service.phone}.",
        edit=True,
    )


# staff: readers without Telegram -------------------------------------------------------------


@staff_only
async def staff_readers(update: Update, context: CuppaContext) -> None:
    """pf:l: readers staff registered for someone without Telegram, each with Delete."""
    await show_staff_readers(update, context)


async def show_staff_readers(update: Update, context: CuppaContext, lead: str = "") -> None:
    readers = await context.services.privacy.readers_without_telegram()
    keyboard: Keyboard = [
        [Button(f"Delete {reader.first_name}'s details", erase_reader(reader.id))]
        for reader in readers[:MAX_LISTED]
    ]
    if readers:
        text = "Readers registered by staff (they have no Telegram). Whose details should go?"
    else:
        text = "There are no readers registered by staff."
    keyboard.append([Button("Back", actions.STAFF_MENU), MENU_BUTTON])
    await reply(update, f"{lead}\n\n{text}" if lead else text, keyboard, edit=True)


@staff_only
async def staff_erase(update: Update, context: CuppaContext) -> None:
    """pf:r:<id> asks, pf:x:<id> erases (audited with who did it)."""
    data = update.callback_query.data or ""  # type: ignore[union-attr]
    head, _, rest = data.partition(":")
    verb, _, tail = rest.partition(":")
    reader_id = actions.plain_number(tail)
    if head != "pf" or verb not in ("r", "x") or reader_id is None:
        await expired_button(update, context)
        return
    readers = {r.id: r for r in await context.services.privacy.readers_without_telegram()}
    if reader_id not in readers:
        await show_staff_readers(update, context, lead="Sorry, I can't find that reader.")
        return
    name = readers[reader_id].first_name
    if verb == "r":
        keyboard = [
            [Button(f"Yes, delete {name}'s details", confirm_erase_reader(reader_id))],
            [Button("No, keep them", STAFF_READERS)],
        ]
        await reply(
            update,
            f"Delete everything about {name}: their name, phone number, needs and calls to "
            "come? Volunteers with calls booked will be told. Only anonymous counts are kept. "
            "This can't be undone.",
            keyboard,
            edit=True,
        )
        return
    staff_id = update.effective_user.id  # type: ignore[union-attr]
    erased = await context.services.privacy.forget_reader(staff_id, reader_id)
    lead = f"Done: {name}'s details are deleted." if erased is not None else "Already deleted."
    await show_staff_readers(update, context, lead=lead)


async def privacy_button(update: Update, context: CuppaContext) -> None:
    data = update.callback_query.data  # type: ignore[union-attr]
    routes = {
        SEND_DATA: my_data,
        ASK_FORGET: forget_me,
        FORGET: forget_confirmed,
        STAFF_READERS: staff_readers,
    }
    route = routes.get(data or "")
    if route is not None:
        await route(update, context)
    elif (data or "").startswith(("pf:r:", "pf:x:")):
        await staff_erase(update, context)
    else:
        await expired_button(update, context)


COMMANDS = [
    ("mydata", my_data),
    ("forgetme", forget_me),
]
BUTTONS = [(r"^pf:", privacy_button)]
