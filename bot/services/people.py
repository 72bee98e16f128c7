"""People's profiles: consent first, then a home library and a preference."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.clock import Clock
from bot.db.database import Database
from bot.db.models import Library, Person
from bot.services.places import library_view
from bot.services.views import PersonView

PREFERENCES = ("in_person", "online", "both")
NAME_LIMIT = 64


def person_view(row: Person) -> PersonView:
    return PersonView(
        id=row.id,
        telegram_id=row.telegram_id,
        first_name=row.first_name,
        home_library=library_view(row.home_library) if row.home_library else None,
        preference=row.preference,
        awaiting=row.awaiting,
        reachable=row.unreachable_at is None,
        news_opt_in=bool(row.news_opt_in),
        reminder_offsets=(
            tuple(row.reminder_offsets) if row.reminder_offsets is not None else None
        ),
    )


def clean_name(name: str) -> str:
    """A display name safe to store and show: printable, trimmed, bounded."""
    printable = "".join(c for c in name if c.isprintable())
    return " ".join(printable.split())[:NAME_LIMIT]


# Built once: nearly every update runs these, and building them each time cost more than
# running them.
_PERSON_BY_TELEGRAM_ID = (
    select(Person)
    .where(Person.telegram_id == bindparam("telegram_id"))
    .options(joinedload(Person.home_library))
)

_SET_AWAITING = (
    update(Person).where(Person.id == bindparam("person_id")).values(awaiting=bindparam("awaiting"))
)


async def load_person(session: AsyncSession, telegram_id: int) -> Person | None:
    return await session.scalar(_PERSON_BY_TELEGRAM_ID, {"telegram_id": telegram_id})


class People:
    """Who someone is to the bot. Nothing is written until they consent."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def by_telegram(self, telegram_id: int) -> PersonView | None:
        async with self._db.transaction() as session:
            row = await load_person(session, telegram_id)
            return person_view(row) if row else None

    async def consent(self, telegram_id: int, first_name: str) -> PersonView:
        """Record agreement to the privacy notice; agreeing twice (even at the same moment,
        from a double tap) changes nothing."""
        try:
            async with self._db.transaction() as session:
                row = await load_person(session, telegram_id)
                if row is None:
                    row = Person(
                        telegram_id=telegram_id,
                        first_name=clean_name(first_name),
                        consented_at=self._clock(),
                        home_library=None,
                    )
                    session.add(row)
                    await session.flush()
                return person_view(row)
        except IntegrityError:  # the other tap created them first
            existing = await self.by_telegram(telegram_id)
            assert existing is not None
            return existing

    async def set_home_library(self, person_id: int, library_id: int | None) -> PersonView | None:
        """Set or clear the home library; None if the library does not exist."""
        async with self._db.transaction() as session:
            if library_id is not None and await session.get(Library, library_id) is None:
                return None
        return await self._update(person_id, home_library_id=library_id)

    async def set_preference(self, person_id: int, preference: str) -> PersonView | None:
        if preference not in PREFERENCES:
            return None
        return await self._update(person_id, preference=preference)

    async def set_news(self, person_id: int, on: bool) -> PersonView | None:
        """Agree to (or stop) general news from the library: broadcasts to everyone."""
        return await self._update(person_id, news_opt_in=on)

    async def set_awaiting(self, person_id: int, awaiting: str | None) -> None:
        """Remember which question typed text answers next (None: no question open). Nearly
        every step of a conversation sets it, so it is one statement and reads nothing back."""
        async with self._db.transaction() as session:
            await session.execute(_SET_AWAITING, {"person_id": person_id, "awaiting": awaiting})

    async def _update(self, person_id: int, **values: object) -> PersonView | None:
        """Change these columns in one statement, then read the profile back as it now is."""
        async with self._db.transaction() as session:
            await session.execute(update(Person).where(Person.id == person_id).values(**values))
            row = await session.get(
                Person, person_id, options=[joinedload(Person.home_library)], populate_existing=True
            )
            return person_view(row) if row else None

    async def mark_unreachable(self, telegram_id: int, when: datetime) -> None:
        """The person blocked the bot: stop writing to them until they come back."""
        async with self._db.transaction() as session:
            row = await load_person(session, telegram_id)
            if row is not None and row.unreachable_at is None:
                row.unreachable_at = when

    async def mark_reachable(self, person_id: int) -> None:
        """They wrote to us again, so they have unblocked the bot."""
        await self._update(person_id, unreachable_at=None)
