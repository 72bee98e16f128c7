"""The Reading Friends call desk: matching open calls to volunteers, offers and answers, the
phone number's window, call logs, and the alerts that bring staff in.

The phone number reaches only the volunteer who accepted a call, and only from acceptance until
the call is logged or 24 hours after its time; offers show first name, interests and needs.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import actions
from bot.clock import Clock, format_when
from bot.config import Config
from bot.db.database import Database
from bot.db.models import (
    CallBooking,
    CallOffer,
    CallSeries,
    OutboxMessage,
    Person,
    Reader,
)
from bot.services.matching import OpenCall, match
from bot.services.outbox import enqueue
from bot.services.phones import PhoneVault, readable, sealed_mark
from bot.services.readers import INTERESTS, volunteer_person
from bot.services.staff_alerts import alert_staff
from bot.services.views import Button, Keyboard
from bot.services.volunteers import Volunteers, volunteer_of

PHONE_WINDOW = timedelta(hours=24)
NOTE_LIMIT = 1000
OUTCOMES = {"d": "done", "n": "no_answer", "w": "concern"}


@dataclass(frozen=True)
class MatchReport:
    expired: int
    offered: int
    alerted: int


@dataclass(frozen=True)
class Accepted:
    """What the volunteer is shown on accepting: the number, inside its window."""

    call_id: int
    reader_name: str
    starts_at: datetime
    phone: str
    interests: list[str]
    needs: str


@dataclass(frozen=True)
class VolunteerCall:
    id: int
    reader_name: str
    starts_at: datetime
    phone: str | None  # only inside the window
    needs: str
    logged: bool


def interests_text(codes: list[str]) -> str:
    return ", ".join(INTERESTS.get(code, code) for code in codes) or "anything"


def log_keyboard(call_id: int, name: str) -> Keyboard:
    """How did the call with `name` go? The volunteer's three answers."""
    return [
        [Button("It went well", actions.log_call(call_id, "d"))],
        [Button("No answer", actions.log_call(call_id, "n"))],
        [Button(f"I'm worried about {name}", actions.log_call(call_id, "w"))],
    ]


def remind(
    session: AsyncSession,
    person: Person,
    call: CallBooking,
    at: datetime,
    now: datetime,
    text: str,
) -> None:
    """A reminder of a call, sent at `at` if that is still to come; it lapses at the call."""
    if at > now:
        enqueue(
            session,
            person,
            kind="call_reminder",
            now=now,
            not_before=at,
            expires_at=call.starts_at,
            call_id=call.id,
            text=text,
        )


class CallDesk:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        vault: PhoneVault,
        volunteers: Volunteers,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._vault = vault
        self._volunteers = volunteers

    # matching
    async def run_matching(self) -> MatchReport:
        """Expire stale offers, then offer every open call together (an optimal assignment),
        and alert staff to calls still unmatched close to their time."""
        now = self._clock()
        settings = self._config.reading_friends
        async with self._db.transaction() as session:
            expired = await self._expire_offers(session, now)
            opens = await self._open_calls(session, now)
        candidates = await self._volunteers.candidates()
        chosen: dict[int, int] = {}
        if opens and candidates:  # pure computation, up to a second for thousands of calls:
            # in a thread, so residents' replies do not wait for it
            chosen = await asyncio.to_thread(match, opens, candidates, self._config.tz)
        offered = 0
        for call_id, volunteer_id in chosen.items():
            try:
                async with self._db.transaction() as session:
                    offered += await self._offer(session, call_id, volunteer_id, now)
            except IntegrityError:
                continue  # another process offered this call first
        async with self._db.transaction() as session:
            alerted = await self._alert_unmatched(
                session, now + timedelta(hours=settings.unmatched_alert_hours), now
            )
        return MatchReport(expired, offered, alerted)

    async def _expire_offers(self, session: AsyncSession, now: datetime) -> int:
        stale = list(
            await session.scalars(
                select(CallOffer).where(CallOffer.status == "pending", CallOffer.expires_at <= now)
            )
        )
        for offer in stale:
            offer.status, offer.answered_at = "expired", now
        if stale:
            await session.execute(
                update(CallBooking)
                .where(
                    CallBooking.id.in_([o.booking_id for o in stale]),
                    CallBooking.status == "offered",
                )
                .values(status="open")
            )
        return len(stale)

    async def _open_calls(self, session: AsyncSession, now: datetime) -> list[OpenCall]:
        rows = list(
            await session.execute(
                select(CallBooking, Reader)
                .join(Reader, Reader.id == CallBooking.reader_id)
                .where(
                    CallBooking.status == "open",
                    CallBooking.starts_at > now + timedelta(minutes=30),
                    Reader.paused.is_(False),
                )
            )
        )
        ids = [call.id for call, _ in rows]
        declined: dict[int, set[int]] = defaultdict(set)
        for booking_id, volunteer_id in await session.execute(
            select(CallOffer.booking_id, CallOffer.volunteer_id).where(
                CallOffer.booking_id.in_(ids),
                CallOffer.status.in_(("declined", "expired", "withdrawn")),
            )
        ):
            declined[booking_id].add(volunteer_id)
        usual = await self._usual_volunteers(session, {reader.id for _, reader in rows})
        return [
            OpenCall(
                id=call.id,
                starts_at=call.starts_at,
                reader_id=reader.id,
                interests=frozenset(reader.interests or []),
                usual_volunteer=usual.get(reader.id),
                declined_by=frozenset(declined[call.id]),
            )
            for call, reader in rows
        ]

    async def _usual_volunteers(
        self, session: AsyncSession, reader_ids: set[int]
    ) -> dict[int, int]:
        """Each reader's volunteer: their weekly pair, else whoever called them last."""
        usual: dict[int, int] = {}
        for reader_id, volunteer_id in await session.execute(
            select(CallBooking.reader_id, CallBooking.volunteer_id)
            .where(
                CallBooking.reader_id.in_(reader_ids),
                CallBooking.volunteer_id.is_not(None),
                CallBooking.status == "confirmed",
            )
            .order_by(CallBooking.starts_at)
        ):
            usual[reader_id] = volunteer_id
        for reader_id, volunteer_id in await session.execute(
            select(CallSeries.reader_id, CallSeries.volunteer_id).where(
                CallSeries.reader_id.in_(reader_ids), CallSeries.volunteer_id.is_not(None)
            )
        ):
            usual[reader_id] = volunteer_id
        return usual

    async def _offer(
        self, session: AsyncSession, call_id: int, volunteer_id: int, now: datetime
    ) -> int:
        call = await session.get(CallBooking, call_id, with_for_update=True)
        if call is None or call.status != "open":
            return 0
        reader = await session.get(Reader, call.reader_id)
        assert reader is not None
        hours = self._config.reading_friends.offer_hours
        expires = min(now + timedelta(hours=hours), call.starts_at - timedelta(minutes=30))
        offer = CallOffer(
            booking_id=call.id, volunteer_id=volunteer_id, expires_at=expires, created_at=now
        )
        session.add(offer)
        call.status = "offered"
        await session.flush()
        tz = self._config.tz
        needs = f"\nNeeds: {reader.needs}" if reader.needs else ""
        text = (
            f"Could you call {reader.first_name} on {format_when(call.starts_at, tz)} for "
            f"{self._config.reading_friends.call_minutes} minutes?\n"
            f"Likes: {interests_text(reader.interests)}{needs}\n\n"
            f"Please answer by {format_when(expires, tz)}."
        )
        keyboard = [
            [
                Button("Accept", actions.accept_offer(offer.id)),
                Button("Decline", actions.decline_offer(offer.id)),
            ]
        ]
        person = await volunteer_person(session, volunteer_id)
        enqueue(
            session,
            person,
            kind="call_offer",
            text=text,
            keyboard=keyboard,
            now=now,
            expires_at=expires,
        )
        return 1

    async def _alert_unmatched(
        self, session: AsyncSession, horizon: datetime, now: datetime
    ) -> int:
        calls = list(
            await session.execute(
                select(CallBooking, Reader)
                .join(Reader, Reader.id == CallBooking.reader_id)
                .where(
                    CallBooking.status.in_(("open", "offered")),
                    CallBooking.starts_at <= horizon,
                    CallBooking.starts_at > now,
                    CallBooking.unmatched_alerted_at.is_(None),
                )
            )
        )
        for call, reader in calls:
            call.unmatched_alerted_at = now
            alert_staff(
                session,
                self._config,
                f"Reading Friends: {reader.first_name}'s call on "
                f"{format_when(call.starts_at, self._config.tz)} has no volunteer yet.",
                now,
                kind="call_unmatched",
            )
        return len(calls)

    # a volunteer's answer
    async def answer(self, person_id: int, offer_id: int, accept: bool) -> Accepted | str:
        """Accept or decline one's own offer. Returns the call's details on accepting, or
        what happened ("declined", "gone") otherwise."""
        now = self._clock()
        async with self._db.transaction() as session:
            offer = await session.get(CallOffer, offer_id, with_for_update=True)
            volunteer = await volunteer_of(session, person_id)
            if offer is None or volunteer is None or offer.volunteer_id != volunteer.id:
                return "gone"
            if offer.status != "pending" or offer.expires_at <= now:
                return "gone"
            call = await session.get(CallBooking, offer.booking_id, with_for_update=True)
            reader = await session.get(Reader, call.reader_id) if call else None
            if call is None or reader is None or call.status != "offered":
                return "gone"
            offer.answered_at = now
            if not accept:
                offer.status, call.status = "declined", "open"
                return "declined"
            offer.status, call.status, call.volunteer_id = "accepted", "confirmed", volunteer.id
            call.volunteer_key = volunteer.key
            if call.series_id is not None:
                series = await session.get(CallSeries, call.series_id)
                if series is not None and series.volunteer_id is None:
                    series.volunteer_id = volunteer.id
            volunteer_person_row = await session.get(Person, person_id)
            assert volunteer_person_row is not None
            phone = readable(self._vault.open(reader.phone_encrypted))
            await self._after_accept(session, call, reader, volunteer_person_row, phone, now)
            return Accepted(
                call.id,
                reader.first_name,
                call.starts_at,
                phone,
                list(reader.interests or []),
                reader.needs,
            )

    async def _after_accept(
        self,
        session: AsyncSession,
        call: CallBooking,
        reader: Reader,
        volunteer: Person,
        phone: str,
        now: datetime,
    ) -> None:
        """Tell the reader's contact; remind both; ask the volunteer afterwards how it went."""
        tz = self._config.tz
        when = format_when(call.starts_at, tz)
        contact = (
            await session.get(Person, reader.contact_person_id)
            if reader.contact_person_id
            else None
        )
        if contact is not None:
            enqueue(
                session,
                contact,
                kind="call_confirmed",
                now=now,
                text=f"Good news: {volunteer.first_name}, a Reading Friends volunteer, will "
                f"phone {reader.first_name} on {when}.",
            )
            remind(
                session,
                contact,
                call,
                call.starts_at - timedelta(days=1),
                now,
                f"A reminder: {volunteer.first_name} will phone {reader.first_name} "
                f"tomorrow, {when}.",
            )
        elif reader.registered_by_staff:
            alert_staff(
                session,
                self._config,
                f"Reading Friends: {volunteer.first_name} will phone {reader.first_name} on "
                f"{when}. Please let {reader.first_name} know.",
                now,
                kind="call_confirmed",
            )
        remind(
            session,
            volunteer,
            call,
            call.starts_at - timedelta(hours=1),
            now,
            f"A reminder: your Reading Friends call with {reader.first_name} is at "
            f"{when}. Their number is {sealed_mark(reader.phone_encrypted)}.",
        )
        enqueue(
            session,
            volunteer,
            kind="call_log_prompt",
            now=now,
            not_before=call.starts_at
            + timedelta(minutes=self._config.reading_friends.call_minutes),
            call_id=call.id,
            text=f"How did your call with {reader.first_name} go?",
            keyboard=log_keyboard(call.id, reader.first_name),
        )

    # after the call
    async def log(self, person_id: int, call_id: int, outcome: str, note: str = "") -> str | None:
        """Record how a call went; a concern or a second no answer alerts staff at once.
        Returns the reader's first name, or None if this is not the person's call to log."""
        if outcome not in OUTCOMES.values():
            return None
        now = self._clock()
        async with self._db.transaction() as session:
            call = await session.get(CallBooking, call_id, with_for_update=True)
            volunteer = await volunteer_of(session, person_id)
            if call is None or volunteer is None or call.volunteer_id != volunteer.id:
                return None
            if call.status != "confirmed" or call.starts_at > now or call.logged_at is not None:
                return None
            reader = await session.get(Reader, call.reader_id)
            assert reader is not None
            call.outcome, call.note, call.logged_at = outcome, note.strip()[:NOTE_LIMIT], now
            # Logged before the prompt went: don't ask again how it went.
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.call_id == call.id,
                    OutboxMessage.kind == "call_log_prompt",
                    OutboxMessage.status == "pending",
                )
                .values(status="cancelled", last_error="call logged")
            )
            person = await session.get(Person, person_id)
            assert person is not None
            when = format_when(call.starts_at, self._config.tz)
            if outcome == "concern":
                alert_staff(
                    session,
                    self._config,
                    f"Reading Friends concern: {person.first_name} is worried about "
                    f"{reader.first_name} after the call on {when}.\nNote: {call.note or '(none)'}"
                    f"\nPlease follow this up today.",
                    now,
                    kind="call_concern",
                )
            elif (
                outcome == "no_answer"
                and await self._previous_outcome(session, call) == "no_answer"
            ):
                alert_staff(
                    session,
                    self._config,
                    f"Reading Friends: {reader.first_name} did not answer two calls in a row "
                    f"(the latest on {when}). Please check they are all right.",
                    now,
                    kind="call_no_answer",
                )
            return reader.first_name

    async def _previous_outcome(self, session: AsyncSession, call: CallBooking) -> str | None:
        return await session.scalar(
            select(CallBooking.outcome)
            .where(
                CallBooking.reader_id == call.reader_id,
                CallBooking.id != call.id,
                CallBooking.logged_at.is_not(None),
                CallBooking.starts_at < call.starts_at,
            )
            .order_by(CallBooking.starts_at.desc())
            .limit(1)
        )

    async def alert_unlogged(self) -> int:
        """Alert staff to confirmed calls not logged within 24 hours (once each)."""
        now = self._clock()
        async with self._db.transaction() as session:
            rows = list(
                await session.execute(
                    select(CallBooking, Reader)
                    .join(Reader, Reader.id == CallBooking.reader_id)
                    .where(
                        CallBooking.status == "confirmed",
                        CallBooking.logged_at.is_(None),
                        CallBooking.unlogged_alerted_at.is_(None),
                        CallBooking.starts_at < now - PHONE_WINDOW,
                    )
                )
            )
            for call, reader in rows:
                call.unlogged_alerted_at = now
                alert_staff(
                    session,
                    self._config,
                    f"Reading Friends: the call with {reader.first_name} on "
                    f"{format_when(call.starts_at, self._config.tz)} hasn't been logged.",
                    now,
                    kind="call_unlogged",
                )
            return len(rows)

    # what a volunteer sees
    async def volunteer_calls(self, person_id: int) -> list[VolunteerCall]:
        """The volunteer's confirmed calls still open, the number shown only in its window."""
        now = self._clock()
        async with self._db.transaction() as session:
            volunteer = await volunteer_of(session, person_id)
            if volunteer is None:
                return []
            rows = await session.execute(
                select(CallBooking, Reader)
                .join(Reader, Reader.id == CallBooking.reader_id)
                .where(
                    CallBooking.volunteer_id == volunteer.id,
                    CallBooking.status == "confirmed",
                    CallBooking.starts_at > now - PHONE_WINDOW,
                )
                .order_by(CallBooking.starts_at)
            )
            calls = []
            for call, reader in rows:
                in_window = call.logged_at is None and now < call.starts_at + PHONE_WINDOW
                phone = readable(self._vault.open(reader.phone_encrypted)) if in_window else None
                calls.append(
                    VolunteerCall(
                        call.id,
                        reader.first_name,
                        call.starts_at,
                        phone,
                        reader.needs,
                        call.logged_at is not None,
                    )
                )
            return calls
