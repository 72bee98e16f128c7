"""Staff seeing who has booked a session, and marking who came and who didn't.

Every entry point is `staff_only`: forged "sa:" data gets the kind refusal and nothing changes.
"""

from __future__ import annotations

from telegram import Update

from bot import staff_actions as sa
from bot.services.views import Button, Keyboard
from handlers.common import expired_button, reply, staff_only
from handlers.context import CuppaContext
from handlers.forms import joined, user_id
from handlers.staff_common import nav, when_of

ATTENDANCE_PAGE = 10
NAME_IN_BUTTON = 20

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


COMMANDS: list[tuple[str, object]] = []
BUTTONS = [(r"^sa:", attendance_button)]
