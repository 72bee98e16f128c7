"""What delivery needs from a chat platform: send one message, or say why not."""

from __future__ import annotations

from typing import Protocol

from bot.services.views import Keyboard


class Blocked(Exception):
    """The person has blocked the bot (or deleted their account): never write again."""


class RetryLater(Exception):
    """Flood control: nothing may be sent for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class TemporaryFailure(Exception):
    """A network problem: worth trying again after a while."""


class PermanentFailure(Exception):
    """The platform refused the message itself: trying again would fail the same way."""


class Sender(Protocol):
    async def send(self, chat_id: int, text: str, keyboard: Keyboard) -> None:
        """Send or raise one of the exceptions above."""
