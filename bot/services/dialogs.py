"""Multi-step forms that take typed answers (staff making a session, writing a broadcast).

Their state lives in the database so a restart or a second bot process picks up where the
person left off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.db.database import Database
from bot.db.models import Dialog


@dataclass(frozen=True)
class DialogState:
    flow: str
    data: dict[str, Any]


class Dialogs:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, telegram_id: int) -> DialogState | None:
        async with self._db.transaction() as session:
            row = await session.get(Dialog, telegram_id)
            return DialogState(row.flow, dict(row.data)) if row else None

    async def set(self, telegram_id: int, flow: str, data: dict[str, Any]) -> DialogState:
        async with self._db.transaction() as session:
            row = await session.get(Dialog, telegram_id)
            if row is None:
                row = Dialog(telegram_id=telegram_id, flow=flow, data=data)
                session.add(row)
            row.flow, row.data, row.updated_at = flow, dict(data), self._clock()
            return DialogState(flow, dict(data))

    async def clear(self, telegram_id: int) -> None:
        async with self._db.transaction() as session:
            row = await session.get(Dialog, telegram_id)
            if row is not None:
                await session.delete(row)
