"""People talking to the bot through the local Bot API stand-in: updates in, what they see out.

`LocalUser` builds the updates Telegram would send when a person types, taps a button or shares
a location, pushes them through the real `Application`, and returns the messages the bot showed
them. The terminal chat, the tests and the benchmarks all speak through it.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.telegram.local_api import LocalBotApi, Shown

_update_ids = itertools.count(1)
_message_ids = itertools.count(10_000_000)


class ButtonNotFound(LookupError):
    """The person looked for a button that is not on their screen."""


class LocalUser:
    """One person in a private chat with the bot."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        api: LocalBotApi,
        user_id: int,
        first_name: str = "Margaret",
    ) -> None:
        self.application = application
        self.api = api
        self.user_id = user_id
        self.first_name = first_name

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": "en",
        }

    @property
    def chat(self) -> dict[str, Any]:
        return {"id": self.user_id, "type": "private", "first_name": self.first_name}

    def screen(self) -> list[Shown]:
        """Every message in this chat as it looks now."""
        return self.api.chat(self.user_id)

    @property
    def last(self) -> Shown:
        return self.screen()[-1]

    async def send(self, text: str) -> list[Shown]:
        """Type and send a message."""
        return await self.deliver(self.typed(text))

    def typed(self, text: str) -> dict[str, Any]:
        """The update Telegram sends when the person types this; a leading /word is a
        command, as Telegram marks it."""
        message = self._message(text=text)
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"message": message}

    async def share_location(self, latitude: float, longitude: float) -> list[Shown]:
        location = {"latitude": latitude, "longitude": longitude}
        return await self.deliver({"message": self._message(location=location)})

    async def send_other(self, **content: Any) -> list[Shown]:
        """Send any other kind of message (a sticker, a photo...), as Telegram would."""
        return await self.deliver({"message": self._message(**content)})

    async def press(self, label: str | None = None, *, data: str | None = None) -> list[Shown]:
        """Tap a button on the newest message that has it (by its label, or its raw data)."""
        for shown in reversed(self.screen()):
            for button_label, button_data in shown.all_buttons():
                if (label is not None and button_label == label) or (
                    data is not None and button_data == data
                ):
                    return await self.press_data(button_data or "", shown)
        raise ButtonNotFound(f"no button {label or data!r} on screen")

    async def press_data(self, data: str, shown: Shown | None = None) -> list[Shown]:
        """Send callback data as if from a button: also how forged or stale data arrives."""
        screen = self.screen()
        shown = shown or (screen[-1] if screen else None)
        query = {
            "id": str(next(_update_ids)),
            "from": self.user,
            "chat_instance": str(self.user_id),
            "data": data,
        }
        if shown is not None:
            query["message"] = self.api.message_json(shown)
        return await self.deliver({"callback_query": query})

    async def deliver(self, payload: dict[str, Any]) -> list[Shown]:
        """Push one update through the application; return what the person was shown."""
        before = len(self.api.timeline)
        update = Update.de_json({"update_id": next(_update_ids), **payload}, self.application.bot)
        await self.application.process_update(update)
        return [shown for shown in self.api.timeline[before:] if shown.chat_id == self.user_id]

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(_message_ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            **content,
        }
