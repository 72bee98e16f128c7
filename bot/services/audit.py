"""The audit trail of staff actions: who did what, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.database import Database
from bot.db.models import StaffAction

DETAIL_LIMIT = 500


@dataclass(frozen=True)
class ActionView:
    staff_telegram_id: int
    action: str
    detail: str
    at: datetime


def record(session: AsyncSession, staff_id: int, action: str, detail: str, now: datetime) -> None:
    """Add an audit entry to the transaction making the change, so neither exists alone."""
    session.add(
        StaffAction(
            staff_telegram_id=staff_id, action=action, detail=detail[:DETAIL_LIMIT], created_at=now
        )
    )


class Audit:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def recent(self, limit: int = 20) -> list[ActionView]:
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(StaffAction)
                .order_by(StaffAction.created_at.desc(), StaffAction.id.desc())
                .limit(limit)
            )
            return [
                ActionView(row.staff_telegram_id, row.action, row.detail, row.created_at)
                for row in rows
            ]
