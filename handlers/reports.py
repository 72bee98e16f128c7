"""Reports (staff only): Staff menu → Reports → a period → the figures in words and a chart of
weekly participation.

Button data: "rp" (choose a period), "rp:4w" (the last 4 weeks), "rp:3m" (the last 3 months),
"rp:y" (this year so far). Every callback is `staff_only`, so a resident who forges "rp…" data
gets the kind refusal, and no report is made or recorded. Each report staff run is recorded in
the audit trail. The full figures, for a spreadsheet, come from `cuppa-bot report --csv`.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from telegram import Update

from bot import actions
from bot.clock import add_months
from bot.services.reports import chart_png, day_label, summary
from bot.services.views import Button, Keyboard
from bot.telegram.markup import inline_markup
from handlers.common import MENU_BUTTON, Callback, expired_button, reply, staff_only
from handlers.context import CuppaContext

REPORTS = "rp"
PERIODS = {
    "rp:4w": "Last 4 weeks",
    "rp:3m": "Last 3 months",
    "rp:y": "This year so far",
}
CAPTION_LIMIT = 1000  # Telegram's is 1024


def months_back(day: date, months: int) -> date:
    """The same day of the month `months` earlier (the month's last day if it is shorter)."""
    return add_months(day, -months)


def period(data: str, today: date) -> tuple[date, date]:
    """The local days (first, last) a period button stands for, ending today."""
    if data == "rp:4w":
        return today - timedelta(days=27), today
    if data == "rp:3m":
        return months_back(today, 3), today
    return date(today.year, 1, 1), today


def after_keyboard() -> Keyboard:
    return [
        [Button("Another period", REPORTS)],
        [Button("Staff menu", actions.STAFF_MENU), MENU_BUTTON],
    ]


@staff_only
async def reports_button(update: Update, context: CuppaContext) -> None:
    """Every rp button: choose a period, or make the report for the one chosen."""
    data = update.callback_query.data or ""  # type: ignore[union-attr]
    if data == REPORTS:
        await choose_period(update)
    elif data in PERIODS:
        await send_report(update, context, data)
    else:
        await expired_button(update, context)


async def choose_period(update: Update) -> None:
    keyboard: Keyboard = [[Button(label, data)] for data, label in PERIODS.items()]
    keyboard.append([Button("Back", actions.STAFF_MENU), MENU_BUTTON])
    await reply(
        update,
        "Reports: sessions held, places booked and attended, Reading Friends calls, and the "
        "people reached in each area. Which period?",
        keyboard,
        edit=True,
    )


async def send_report(update: Update, context: CuppaContext, data: str) -> None:
    """The figures as text (in place of the question), then the chart as a photo."""
    services = context.services
    user = update.effective_user
    assert user is not None
    tz = services.config.tz
    first, last = period(data, services.clock().astimezone(tz).date())
    report = await services.reports.build(first, last, staff_id=user.id, via="in the bot")
    await reply(update, summary(report, tz), edit=True)
    png = await asyncio.to_thread(chart_png, report)
    caption = (
        f"Places booked and attended each week, {day_label(first)} to {day_label(last)}. "
        "For every figure in a spreadsheet: cuppa-bot report --from "
        f"{first.isoformat()} --to {last.isoformat()} --csv report.csv"
    )[:CAPTION_LIMIT]
    chat = update.effective_chat or user
    await update.get_bot().send_photo(
        chat.id,
        photo=png,
        caption=caption,
        filename="participation.png",
        reply_markup=inline_markup(after_keyboard()),
    )


COMMANDS: list[tuple[str, Callback]] = []
BUTTONS = [(r"^rp(?::|$)", reports_button)]
