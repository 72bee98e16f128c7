"""Staff broadcasts: an audience, a message, one outbox row per person, and a delivery report.

Audiences: a session's booked people ("s<id>"), followers of an activity ("a<id>") or of a
library ("l<id>"), or everyone who agreed to news ("all"). The broadcast and all its rows are
written in one transaction, so it goes to everyone or (if anything fails) to no one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, format_when
from bot.config import Config
from bot.db.database import Database
from bot.db.models import (
    Activity,
    Booking,
    Broadcast,
    Follow,
    Library,
    LibrarySession,
    OutboxMessage,
    Person,
)
from bot.delivery.dispatcher import UNREACHABLE
from bot.services.audit import record

TEXT_LIMIT = 3500
AUDIENCE = re.compile(r"(?:[sal][0-9]{1,9}|all)")


@dataclass(frozen=True)
class Audience:
    spec: str
    label: str
    size: int


@dataclass(frozen=True)
class DeliveryReport:
    broadcast_id: int
    audience: str
    recipients: int
    sent: int
    failed: int
    unreachable: int
    waiting: int


class Broadcasts:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self._db = db
        self._config = config
        self._clock = clock

    async def audience(self, spec: str) -> Audience | None:
        """Describe an audience and count it; None if the spec names nothing real."""
        async with self._db.transaction() as session:
            found = await self._resolve(session, spec)
            if found is None:
                return None
            label, people = found
            size = await session.scalar(select(func.count()).select_from(people.subquery()))
            return Audience(spec, label, int(size or 0))

    async def _resolve(
        self, session: AsyncSession, spec: str
    ) -> tuple[str, Select[tuple[Person]]] | None:
        if not AUDIENCE.fullmatch(spec):
            return None
        people = select(Person).where(Person.telegram_id.is_not(None))
        if spec == "all":
            return "everyone who asked for news", people.where(Person.news_opt_in)
        kind, number = spec[0], int(spec[1:])
        if kind == "s":
            target = await session.get(LibrarySession, number)
            if target is None:
                return None
            activity = await session.get(Activity, target.activity_id)
            assert activity is not None
            when = format_when(target.starts_at, self._config.tz)
            booked = select(Booking.person_id).where(
                Booking.session_id == number, Booking.status == "booked"
            )
            return f"people booked on {activity.name}, {when}", people.where(Person.id.in_(booked))
        model, column = (
            (Activity, Follow.activity_id) if kind == "a" else (Library, Follow.library_id)
        )
        target = await session.get(model, number)
        if target is None:
            return None
        followers = select(Follow.person_id).where(column == number)
        return f"followers of {target.name}", people.where(Person.id.in_(followers))

    def body(self, text: str) -> str:
        """The message exactly as each person will see it (for the preview too)."""
        return f"A message from {self._config.service.name}:\n\n{text.strip()}"

    async def send(self, staff_id: int, spec: str, text: str) -> DeliveryReport | None:
        """Queue the message for everyone in the audience; people who blocked the bot are
        recorded as unreachable straight away, so the report counts them."""
        text = text.strip()
        if not text or len(text) > TEXT_LIMIT:
            return None
        now = self._clock()
        async with self._db.transaction() as session:
            found = await self._resolve(session, spec)
            if found is None:
                return None
            label, people_query = found
            people = list(await session.scalars(people_query))
            broadcast = Broadcast(
                staff_telegram_id=staff_id,
                audience=spec,
                text=text,
                recipients=len(people),
                created_at=now,
            )
            session.add(broadcast)
            await session.flush()
            body = self.body(text)
            session.add_all(
                OutboxMessage(
                    chat_id=person.telegram_id,
                    person_id=person.id,
                    kind="broadcast",
                    text=body,
                    broadcast_id=broadcast.id,
                    not_before=now,
                    created_at=now,
                    status="pending" if person.unreachable_at is None else "failed",
                    last_error="" if person.unreachable_at is None else UNREACHABLE,
                )
                for person in people
            )
            record(session, staff_id, "broadcast", f"to {label} ({len(people)}): {text[:200]}", now)
            broadcast_id = broadcast.id
        return await self.report(broadcast_id)

    async def report(self, broadcast_id: int) -> DeliveryReport | None:
        async with self._db.transaction() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                return None
            unreachable = (OutboxMessage.status == "failed") & (
                OutboxMessage.last_error == UNREACHABLE
            )
            counts = (
                await session.execute(
                    select(
                        func.sum(case((OutboxMessage.status == "sent", 1), else_=0)),
                        func.sum(
                            case(((OutboxMessage.status == "failed") & ~unreachable, 1), else_=0)
                        ),
                        func.sum(case((unreachable, 1), else_=0)),
                        func.sum(case((OutboxMessage.status == "pending", 1), else_=0)),
                    ).where(OutboxMessage.broadcast_id == broadcast_id)
                )
            ).one()
            sent, failed, blocked, waiting = (int(value or 0) for value in counts)
            return DeliveryReport(
                broadcast_id,
                broadcast.audience,
                broadcast.recipients,
                sent,
                failed,
                blocked,
                waiting,
            )
