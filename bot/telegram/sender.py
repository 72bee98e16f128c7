"""Delivery's `Sender` on Telegram: python-telegram-bot's errors mapped as Telegram documents them.

429 carries `retry_after` (wait that long); 403 means the person blocked the bot; timeouts and
other network errors are worth retrying; any other 400 will fail the same way every time.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.delivery.sender import Blocked, PermanentFailure, RetryLater, TemporaryFailure
from bot.services.views import Keyboard
from bot.telegram.markup import inline_markup


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: int, text: str, keyboard: Keyboard) -> None:
        try:
            await self._bot.send_message(chat_id, text, reply_markup=inline_markup(keyboard))
        except RetryAfter as exc:
            wait = exc.retry_after
            raise RetryLater(wait.total_seconds() if isinstance(wait, timedelta) else wait) from exc
        except Forbidden as exc:
            raise Blocked(str(exc)) from exc
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise Blocked(str(exc)) from exc
            raise PermanentFailure(str(exc)) from exc
        except NetworkError as exc:
            raise TemporaryFailure(str(exc) or type(exc).__name__) from exc
        except TelegramError as exc:
            raise PermanentFailure(str(exc)) from exc
