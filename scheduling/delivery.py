"""The delivery loop: a long-lived task that sweeps the outbox until it is stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.delivery.dispatcher import Dispatcher

log = logging.getLogger(__name__)


class DeliveryLoop:
    """Sweeps again at once while there is work, otherwise every `poll_seconds`."""

    def __init__(self, dispatcher: Dispatcher, poll_seconds: float) -> None:
        self._dispatcher = dispatcher
        self._poll = poll_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="cuppa-delivery")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = await self._dispatcher.sweep()
                idle = report.handled == 0
            except Exception:
                log.exception("delivery sweep failed; trying again shortly")
                idle = True
            if idle:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._poll)
