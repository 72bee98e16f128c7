"""Writing messages the bot sends on its own, inside the transaction that causes them.

The row commits with the change or not at all, so a crash can never leave a booking made and its
notice lost; the delivery worker sends it later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxMessage, Person
from bot.services.views import Button, Keyboard


def keyboard_to_json(keyboard: Keyboard | None) -> list[list[list[str]]] | None:
    if not keyboard:
        return None
    return [[[button.label, button.data] for button in row] for row in keyboard]


def keyboard_from_json(raw: list[list[list[str]]] | None) -> Keyboard:
    return [[Button(label, data) for label, data in row] for row in raw or []]


def enqueue(
    session: AsyncSession,
    person: Person,
    *,
    kind: str,
    text: str,
    now: datetime,
    not_before: datetime | None = None,
    keyboard: Keyboard | None = None,
    booking_id: int | None = None,
    call_id: int | None = None,
    expires_at: datetime | None = None,
) -> OutboxMessage | None:
    """Add a message for `person`, to go at `not_before` (default: `now`, the service's clock);
    None if they cannot be written to."""
    if person.telegram_id is None or person.unreachable_at is not None:
        return None
    message = OutboxMessage(
        chat_id=person.telegram_id,
        person_id=person.id,
        kind=kind,
        text=text,
        buttons=keyboard_to_json(keyboard),
        booking_id=booking_id,
        call_id=call_id,
        not_before=not_before or now,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(message)
    return message
