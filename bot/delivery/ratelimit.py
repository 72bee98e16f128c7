"""Pacing sends: at most N a second overall and M a second per chat.

Each send is spaced from the previous *actual* send (never from a reserved slot), so a worker that
fell behind does not catch up in a burst; a small safety margin keeps any one-second window under
the limit even when the time a call is recorded jitters by a few milliseconds.
"""

from __future__ import annotations

SAFETY = 1.01


class RateLimiter:
    def __init__(self, per_second: float, per_chat_per_second: float) -> None:
        self.interval = SAFETY / per_second
        self.chat_interval = SAFETY / per_chat_per_second
        self._next_any = 0.0
        self._next_chat: dict[int, float] = {}

    def chat_ready_at(self, chat_id: int) -> float:
        return self._next_chat.get(chat_id, 0.0)

    def ready_at(self, chat_id: int) -> float:
        """The earliest moment a message to this chat may go."""
        return max(self._next_any, self.chat_ready_at(chat_id))

    def sent(self, chat_id: int, at: float) -> None:
        """Record a send made at `at` (monotonic seconds)."""
        self._next_any = at + self.interval
        self._next_chat[chat_id] = at + self.chat_interval
        if len(self._next_chat) > 10_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > at}

    def pause_until(self, at: float) -> None:
        """Telegram said wait (429): nothing goes before `at`."""
        self._next_any = max(self._next_any, at)
