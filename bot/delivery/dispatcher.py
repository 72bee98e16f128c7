"""Sending due outbox rows: claim a batch, send each within the limits, record how each ended.

A row is claimed with a lease (`claimed_until`) in its own short transaction (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, so several processes never claim the same row), and a process that dies
mid-batch leaves rows another sweep takes once the lease is over; a single-process SQLite bot
releases its own stale claims at start-up. Sends start on planned slots (see `RateLimiter`), a
few senders sharing the batch so a slow round trip does not slow the pace. Outcomes are recorded
every few hundred sends or quarter of a second, whichever comes first, so after a `kill -9`
only messages sent but not yet recorded (at the limit, a handful) can go twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.db.database import Database
from bot.db.models import OutboxMessage, Person
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.sender import Blocked, PermanentFailure, RetryLater, Sender, TemporaryFailure
from bot.services.outbox import keyboard_from_json

LEASE = timedelta(seconds=60)
RECORD_EVERY = 500
RECORD_SECONDS = 0.25
IN_FLIGHT = 8
UNREACHABLE = "unreachable: the person has blocked the bot"
EXPIRED = "expired: no longer worth sending (the session has started)"
MAX_BACKOFF_SECONDS = 300


# Built once (each batch runs them, and building one cost more than running it); the id lists
# are expanding parameters rather than a thousand values coerced into each new statement.
_DUE = (
    select(
        OutboxMessage.id,
        OutboxMessage.chat_id,
        OutboxMessage.text,
        OutboxMessage.buttons,
        OutboxMessage.attempts,
    )
    .where(
        OutboxMessage.status == "pending",
        OutboxMessage.not_before <= bindparam("now"),
        or_(
            OutboxMessage.claimed_until.is_(None),
            OutboxMessage.claimed_until < bindparam("now"),
        ),
    )
    .order_by(OutboxMessage.not_before, OutboxMessage.id)
    .limit(bindparam("batch"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    .values(claimed_until=bindparam("until"))
)
_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    .values(
        status="sent",
        sent_at=bindparam("now"),
        claimed_until=None,
        attempts=OutboxMessage.attempts + 1,
    )
)


@dataclass
class SweepReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    deferred: int = 0
    paused_for: float = 0.0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retrying


@dataclass
class _Claimed:
    id: int
    chat_id: int
    text: str
    buttons: Any
    attempts: int


@dataclass
class _Results:
    """Outcomes not yet written: sent ids in one list (one UPDATE), the rest row by row."""

    sent: list[int] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    new_blocked: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.sent) + len(self.updates)

    def take(self) -> _Results:
        """Hand over what is pending and start afresh (sends in flight keep adding)."""
        taken = _Results(self.sent, self.updates, self.blocked_chats, self.new_blocked)
        self.sent, self.updates, self.new_blocked = [], [], set()
        return taken


@dataclass
class _Batch:
    """One sweep's claimed rows, shared by its senders."""

    pending: deque[_Claimed]
    ids: list[int]
    lease_end: datetime
    last_record: float
    results: _Results = field(default_factory=_Results)
    gate: asyncio.Lock = field(default_factory=asyncio.Lock)
    recording: bool = False


class Dispatcher:
    """Sends what is due. `sleep` and `monotonic` are injectable so tests control time."""

    def __init__(
        self,
        db: Database,
        config: DeliveryConfig,
        clock: Clock,
        sender: Sender,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        reveal: Callable[[str], str] | None = None,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._sender = sender
        self._sleep = sleep
        self._monotonic = monotonic
        self._reveal = reveal  # puts in phone numbers kept sealed in the outbox
        self.limiter = RateLimiter(config.messages_per_second, config.per_chat_per_second)

    async def release_stale_claims(self) -> int:
        """Free every claim (only safe when this is the one process using the database).

        Only rows already due are looked at: a row is claimed only once due and its not-before
        never moves forward while claimed, so this reads the due end of the pending index
        instead of every future reminder (start-up would otherwise grow with their number)."""
        now = self._clock()
        async with self._db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.not_before <= now,
                    OutboxMessage.claimed_until.is_not(None),
                )
                .values(claimed_until=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def sweep(self) -> SweepReport:
        """Send every row due now that the limits allow; return what happened."""
        report = SweepReport()
        pause = self.limiter.paused_until - self._monotonic()
        if pause > 0:  # wait out a 429 before claiming, so no lease runs out meanwhile
            await self._sleep(pause)
        claimed = await self._claim()
        batch = _Batch(
            pending=deque(claimed),
            ids=[message.id for message in claimed],
            lease_end=self._clock() + LEASE,
            last_record=self._monotonic(),
        )
        senders = min(IN_FLIGHT, len(claimed))
        await asyncio.gather(*(self._send_from(batch, report) for _ in range(senders)))
        await self._record(batch.results.take())
        return report

    async def _send_from(self, batch: _Batch, report: SweepReport) -> None:
        """One of a few senders working through the batch together: while one waits for
        Telegram's answer the others go on. They pass a gate one at a time to take the next
        message and wait for its planned slot, so the pacing sees every start in order."""
        results, pending = batch.results, batch.pending
        while pending:
            async with batch.gate:
                message = await self._next_to_send(batch, report)
            if message is None:
                continue
            await self._send(message, results, report)
            if not batch.recording and (
                len(results) >= RECORD_EVERY
                or self._monotonic() - batch.last_record > RECORD_SECONDS
            ):
                await self._record_during(batch)

    async def _next_to_send(self, batch: _Batch, report: SweepReport) -> _Claimed | None:
        """Take the next message and wait for its slot; None if it is not to be sent now."""
        results, pending = batch.results, batch.pending
        if not pending:
            return None
        message = pending.popleft()
        if message.chat_id in results.blocked_chats:
            self._fail(results, message, UNREACHABLE)
            report.failed += 1
            return None
        now = self._monotonic()
        if self.limiter.chat_ready_at(message.chat_id) > now:
            self._release(results, message)
            report.deferred += 1
            return None
        slot = self.limiter.reserve(message.chat_id, now)
        if slot > now:
            await self._sleep(slot - now)
        now = self._monotonic()
        if self.limiter.paused_until > now:  # a send in flight got a 429: stop the batch
            for rest in (message, *pending):
                self._release(results, rest)
            pending.clear()
            return None
        self.limiter.started(now)
        return message

    async def _record_during(self, batch: _Batch) -> None:
        """Write the outcomes so far while the batch goes on, renewing the lease if it is
        half gone (so no other process takes rows this one still holds)."""
        batch.recording = True
        try:
            renew = batch.lease_end - self._clock() < LEASE / 2
            await self._record(batch.results.take(), renew=batch.ids if renew else [])
            if renew:
                batch.lease_end = self._clock() + LEASE
            batch.last_record = self._monotonic()
        finally:
            batch.recording = False

    async def _claim(self) -> list[_Claimed]:
        now = self._clock()
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.expires_at <= now,
                )
                .values(status="cancelled", last_error=EXPIRED, claimed_until=None)
            )
            rows = list(await session.execute(_DUE, {"now": now, "batch": self._config.batch_size}))
            if rows:
                ids = [row.id for row in rows]
                await session.execute(_CLAIM, {"ids": ids, "until": now + LEASE})
        return [_Claimed(*row) for row in rows]

    async def _send(self, message: _Claimed, results: _Results, report: SweepReport) -> None:
        """Send one message and note its outcome (in `results`, counted in `report`)."""
        attempts = message.attempts + 1
        try:
            keyboard = keyboard_from_json(message.buttons)
            text = self._reveal(message.text) if self._reveal else message.text
            await self._sender.send(message.chat_id, text, keyboard)
        except RetryLater as exc:
            seconds = max(float(exc.seconds), 0.0)
            self.limiter.pause_until(self._monotonic() + seconds)
            report.paused_for = max(report.paused_for, seconds)
            not_before = self._clock() + timedelta(seconds=seconds)
            results.updates.append(
                {"id": message.id, "claimed_until": None, "not_before": not_before}
            )
            report.retrying += 1
        except Blocked:
            results.blocked_chats.add(message.chat_id)
            results.new_blocked.add(message.chat_id)
            self._fail(results, message, UNREACHABLE, attempts)
            report.failed += 1
        except TemporaryFailure as exc:
            if attempts >= self._config.max_attempts:
                self._fail(results, message, f"gave up after {attempts} tries: {exc}", attempts)
                report.failed += 1
                return
            backoff = min(2**attempts, MAX_BACKOFF_SECONDS)
            results.updates.append(
                {
                    "id": message.id,
                    "claimed_until": None,
                    "attempts": attempts,
                    "last_error": str(exc)[:500],
                    "not_before": self._clock() + timedelta(seconds=backoff),
                }
            )
            report.retrying += 1
        except PermanentFailure as exc:
            self._fail(results, message, str(exc)[:500], attempts)
            report.failed += 1
        else:
            results.sent.append(message.id)
            report.sent += 1

    @staticmethod
    def _fail(
        results: _Results, message: _Claimed, reason: str, attempts: int | None = None
    ) -> None:
        results.updates.append(
            {
                "id": message.id,
                "status": "failed",
                "last_error": reason,
                "claimed_until": None,
                "attempts": attempts if attempts is not None else message.attempts,
            }
        )

    @staticmethod
    def _release(results: _Results, message: _Claimed) -> None:
        results.updates.append({"id": message.id, "claimed_until": None})

    async def _record(self, results: _Results, renew: list[int] | None = None) -> None:
        """Write outcomes in one transaction; a blocked chat's other waiting rows fail too.

        `renew`: this sweep's claimed rows, whose lease is extended while a long batch is still
        being sent (so no other process takes rows this one still holds)."""
        if not len(results) and not results.new_blocked and not renew:
            return
        now = self._clock()
        async with self._db.transaction() as session:
            if results.sent:
                await session.execute(_SENT, {"ids": results.sent, "now": now})
            for values in _group_by_keys(results.updates):
                await session.execute(update(OutboxMessage), values)
            if renew:
                await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(renew),
                        OutboxMessage.status == "pending",
                        OutboxMessage.claimed_until.is_not(None),
                    )
                    .values(claimed_until=now + LEASE)
                )
            if results.new_blocked:
                chats = list(results.new_blocked)
                await session.execute(
                    update(Person)
                    .where(Person.telegram_id.in_(chats), Person.unreachable_at.is_(None))
                    .values(unreachable_at=now)
                )
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.chat_id.in_(chats), OutboxMessage.status == "pending")
                    .values(status="failed", last_error=UNREACHABLE, claimed_until=None)
                )


def _group_by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Bulk UPDATE by primary key wants the same columns in every row of one call."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())
