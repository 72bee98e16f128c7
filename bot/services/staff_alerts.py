"""Alerts to staff, written to the outbox in the transaction of whatever raised them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.db.models import OutboxMessage
from bot.services.outbox import keyboard_to_json
from bot.services.views import Keyboard


def alert_staff(
    session: AsyncSession,
    config: Config,
    text: str,
    now: datetime,
    *,
    kind: str = "staff_alert",
    keyboard: Keyboard | None = None,
) -> int:
    """One message to each member of staff; returns how many."""
    for staff_id in config.staff.telegram_ids:
        session.add(
            OutboxMessage(
                chat_id=staff_id,
                person_id=None,
                kind=kind,
                text=text,
                buttons=keyboard_to_json(keyboard),
                not_before=now,
                created_at=now,
            )
        )
    return len(config.staff.telegram_ids)
