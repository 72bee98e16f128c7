"""`cuppa-bot chat`: the real application and handlers, spoken to from a terminal.

Buttons are numbered; typing a number presses one. `location LAT, LON` shares a location.
Messages the bot sends on its own (through the outbox) appear as they are delivered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tempfile
import textwrap
from pathlib import Path

import click
from sqlalchemy import func, select

from bot.actions import plain_number
from bot.config import Config, ConfigError
from bot.core import Services
from bot.db.models import Library
from bot.demo import seed_demo
from bot.telegram.application import build_application, start_background, stop_background
from bot.telegram.local_api import LocalBotApi, Shown
from bot.telegram.local_chat import LocalUser

# Demo people: a new resident, staff (named as staff for this chat) and Sam, a demo volunteer.
ROLES = {"resident": 1001, "staff": 9001, "volunteer": 2001}
LOCATION = re.compile(r"^(?:loc|location)\s+(-?\d+(?:\.\d+)?)[,\s]+(-?\d+(?:\.\d+)?)$", re.I)
QUIT = {"quit", "exit", "bye"}


def speaker(who: str, config: Config) -> tuple[int, Config]:
    """The user id to speak as; 'staff' also names that id as staff for this chat."""
    if who in ROLES:
        user_id = ROLES[who]
    elif (number := plain_number(who)) is not None:
        user_id = number
    else:
        raise ConfigError(f"--as takes a user id or one of {', '.join(ROLES)}, not {who!r}")
    if who == "staff":
        staff = dataclasses.replace(
            config.staff, telegram_ids=(*config.staff.telegram_ids, user_id)
        )
        config = config.replace(staff=staff)
    return user_id, config


class Screen:
    """Prints what the bot shows this person, numbering the buttons of the latest message."""

    def __init__(self, user_id: int, files: Path) -> None:
        self.user_id = user_id
        self.files = files
        self.buttons: list[tuple[str, str | None, bool]] = []

    def show(self, shown: Shown) -> None:
        if shown.chat_id != self.user_id:
            return
        label = "Cuppa (edited)" if shown.edited else "Cuppa"
        click.echo(f"\n{label}:")
        if shown.text:
            for line in shown.text.splitlines() or [""]:
                click.echo(textwrap.indent(line, "  ") if line else "")
        if shown.document is not None:
            name, content = shown.document
            path = self.files / name
            path.write_bytes(content)
            click.echo(f"  [file] {name} saved to {path}")
        numbered = [(label, data, False) for label, data in shown.all_buttons()]
        numbered += [
            (button.get("text", ""), None, bool(button.get("request_location")))
            for row in shown.reply_keyboard
            for button in row
        ]
        if numbered:
            self.buttons = numbered
            for number, (text, _, _) in enumerate(numbered, start=1):
                click.echo(f"  [{number}] {text}")


async def ensure_demo_data(services: Services) -> None:
    async with services.db.transaction() as session:
        has_libraries = await session.scalar(select(func.count()).select_from(Library))
    if not has_libraries:
        report = await seed_demo(services.db, services.config, services.clock)
        click.echo(
            f"(First run: loaded demo data: {report.libraries} libraries, "
            f"{report.sessions} sessions.)"
        )


async def run_terminal_chat(services: Services, user_id: int) -> None:
    await ensure_demo_data(services)
    api = LocalBotApi()
    application = build_application(services, request=api)
    screen = Screen(user_id, Path(tempfile.mkdtemp(prefix="cuppa-chat-")))
    api.listeners.append(screen.show)
    person = LocalUser(application, api, user_id, first_name="Margaret")
    click.echo(
        "Talking to Cuppa on demo data. Type a message or /start; type a number to press a "
        "button; 'location 52.68, 0.94' shares a location; 'quit' to leave."
    )
    async with application:
        await start_background(application)
        try:
            await converse(person, screen)
        finally:
            await stop_background(application)


async def converse(person: LocalUser, screen: Screen) -> None:
    while True:
        try:
            line = (await asyncio.to_thread(input, "\nyou> ")).strip()
        except EOFError:
            await asyncio.sleep(0.5)  # let anything just queued in the outbox arrive
            return
        if not line:
            continue
        if line.lower() in QUIT:
            return
        await say(person, screen, line)


async def say(person: LocalUser, screen: Screen, line: str) -> None:
    location = LOCATION.match(line)
    if location:
        await person.share_location(float(location[1]), float(location[2]))
        return
    number = plain_number(line)
    if number is not None and 1 <= number <= len(screen.buttons):
        label, data, wants_location = screen.buttons[number - 1]
        if wants_location:
            click.echo("  (type: location LATITUDE, LONGITUDE; for example location 52.68, 0.94)")
        elif data is not None:
            await person.press_data(data, _message_with(person, data))
        else:
            await person.send(label)
        return
    await person.send(line)


def _message_with(person: LocalUser, data: str) -> Shown | None:
    for shown in reversed(person.screen()):
        if any(button_data == data for _, button_data in shown.all_buttons()):
            return shown
    return None
