"""Read-mostly lists kept in memory for a short while.

Libraries and activities change a few times a year (the demo data, or a change made by hand),
yet nearly every screen shows some of them: reading them from the database each time was a
transaction on most screens. A change made elsewhere shows within `REFRESH_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

REFRESH_SECONDS = 60.0


class Fresh(Generic[T]):
    """The loader's result, loaded again once it is `seconds` old."""

    def __init__(
        self,
        load: Callable[[], Awaitable[T]],
        seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._seconds = seconds
        self._monotonic = monotonic
        self._value: T | None = None
        self._loaded_at = 0.0

    async def get(self) -> T:
        now = self._monotonic()
        if self._value is None or now - self._loaded_at >= self._seconds:
            self._value = await self._load()
            self._loaded_at = now
        return self._value

    def forget(self) -> None:
        """Load afresh next time (after a change made in this process)."""
        self._value = None
