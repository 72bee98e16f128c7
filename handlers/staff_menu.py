"""The staff menu (/staff), leaving a staff form, and the recent staff actions (the audit trail).

Every entry point is `staff_only`: a resident who types /staff or forges "sf" data gets the kind
refusal and nothing changes. The Menu button also closes any open staff form, so later typing
isn't taken for an answer.
"""

from __future__ import annotations

from telegram import Update

from bot import staff_actions as sa
from bot.clock import format_when
from bot.services.views import Button
from handlers.common import MENU_BUTTON, expired_button, reply, show_menu, staff_only
from handlers.context import CuppaContext
from handlers.forms import joined, user_id
from handlers.staff_common import nav

RECENT_ACTIONS = 20
DETAIL_SHOWN = 120
TEXT_LIMIT = 4000  # Telegram's is 4096
IMPORTER = 0  # the audit trail's "who" for the command line (imports, reports)


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


COMMANDS = [("staff", staff_command)]
BUTTONS = [(r"^sf(?::|$)", staff_button)]
