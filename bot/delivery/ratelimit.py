"""Pacing sends: at most N a second overall and M a second per chat.

Each send gets a planned start slot, spaced from the previous slot, never earlier than now, so a
worker that fell behind does not catch up in a burst and sends already in flight do not slow the
pace down. A small safety margin keeps any one-second window under the limit even when the
moment a call is recorded jitters by a few milliseconds.
"""

from __future__ import annotations

import math
from collections import deque

SAFETY = 1.01
# Besides even spacing, never more than the limit in any sliding second of actual starts.
WINDOW = 1.0
WINDOW_MARGIN = 0.005


class RateLimiter:
    def __init__(self, per_second: float, per_chat_per_second: float) -> None:
        self.interval = SAFETY / per_second
        self.chat_interval = SAFETY / per_chat_per_second
        self._next_any = 0.0
        self._paused_until = 0.0
        self._next_chat: dict[int, float] = {}
        self._starts: deque[float] = deque(maxlen=max(1, math.floor(per_second)))

    def chat_ready_at(self, chat_id: int) -> float:
        return self._next_chat.get(chat_id, 0.0)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def reserve(self, chat_id: int, now: float) -> float:
        """Book the next start slot for a send to this chat and return it."""
        slot = max(now, self._next_any, self._paused_until, self.chat_ready_at(chat_id))
        if len(self._starts) == self._starts.maxlen:
            slot = max(slot, self._starts[0] + WINDOW + WINDOW_MARGIN)
        self._next_any = slot + self.interval
        self._next_chat[chat_id] = slot + self.chat_interval
        if len(self._next_chat) > 10_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return slot

    def started(self, at: float) -> None:
        """Record the moment a send actually began (it may be later than its slot)."""
        self._starts.append(at)

    def pause_until(self, at: float) -> None:
        """Telegram said wait (429): nothing goes before `at`."""
        self._paused_until = max(self._paused_until, at)
