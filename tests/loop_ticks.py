"""Whether the event loop stays free while something slow runs: a ticker counts its turns."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class Ticks:
    count: int = 0


@contextlib.asynccontextmanager
async def loop_ticks(every: float) -> AsyncIterator[Ticks]:
    """Count the loop's turns (one each `every` seconds) while the block runs; a loop blocked
    by the block's work counts none meanwhile."""
    ticks = Ticks()

    async def tick() -> None:
        while True:
            await asyncio.sleep(every)
            ticks.count += 1

    ticker = asyncio.create_task(tick())
    try:
        yield ticks
    finally:
        ticker.cancel()
