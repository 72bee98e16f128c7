"""Following an activity or a library, and the daily digest of new sessions there.

New sessions are gathered into at most one message a day per person, written by the digest job
in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from bot import actions
from bot.clock import Clock
from bot.config import Config
from bot.db.database import Database
from bot.db.models import Activity, Follow, Library, LibrarySession, Person
from bot.services.catalogue import session_views, with_details
from bot.services.outbox import enqueue
from bot.services.views import Button, SessionView
from bot.wording import session_summary

DIGEST_GAP = timedelta(hours=20)
DIGEST_LIMIT = 8


@dataclass(frozen=True)
class FollowView:
    id: int
    label: str


class Follows:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self._db = db
        self._config = config
        self._clock = clock

    async def follow(
        self, person_id: int, *, activity_id: int | None = None, library_id: int | None = None
    ) -> bool:
        """Follow one activity or one library; False if it does not exist or is followed."""
        if (activity_id is None) == (library_id is None):
            return False
        try:
            async with self._db.transaction() as session:
                target = (
                    await session.get(Activity, activity_id)
                    if activity_id is not None
                    else await session.get(Library, library_id)
                )
                if target is None or await session.get(Person, person_id) is None:
                    return False
                session.add(
                    Follow(
                        person_id=person_id,
                        activity_id=activity_id,
                        library_id=library_id,
                        created_at=self._clock(),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def unfollow(self, person_id: int, follow_id: int) -> bool:
        async with self._db.transaction() as session:
            row = await session.get(Follow, follow_id)
            if row is None or row.person_id != person_id:
                return False
            await session.delete(row)
            return True

    async def following(self, person_id: int) -> list[FollowView]:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(Follow.id, Activity.name, Library.name)
                .outerjoin(Activity, Activity.id == Follow.activity_id)
                .outerjoin(Library, Library.id == Follow.library_id)
                .where(Follow.person_id == person_id)
                .order_by(Follow.id)
            )
            return [FollowView(fid, activity or library or "") for fid, activity, library in rows]

    async def send_digests(self) -> int:
        """One message per follower listing new sessions they follow; returns how many."""
        now = self._clock()
        sent = 0
        async with self._db.transaction() as session:
            people = list(
                await session.scalars(
                    select(Person)
                    .where(Person.id.in_(select(Follow.person_id)))
                    .where(
                        or_(
                            Person.digest_sent_at.is_(None),
                            Person.digest_sent_at < now - DIGEST_GAP,
                        )
                    )
                )
            )
            for person in people:
                since = person.digest_sent_at or person.consented_at
                follows = list(
                    await session.scalars(select(Follow).where(Follow.person_id == person.id))
                )
                activity_ids = [f.activity_id for f in follows if f.activity_id is not None]
                library_ids = [f.library_id for f in follows if f.library_id is not None]
                rows = list(
                    await session.scalars(
                        with_details(select(LibrarySession))
                        .where(
                            LibrarySession.announce,
                            LibrarySession.status == "scheduled",
                            LibrarySession.starts_at > now,
                            LibrarySession.created_at > since,
                            or_(
                                LibrarySession.activity_id.in_(activity_ids),
                                LibrarySession.library_id.in_(library_ids),
                            ),
                        )
                        .order_by(LibrarySession.starts_at)
                        .limit(DIGEST_LIMIT + 1)
                    )
                )
                if not rows:
                    continue
                views = await session_views(session, rows[:DIGEST_LIMIT])
                if enqueue(
                    session,
                    person,
                    kind="follow_digest",
                    text=self._digest_text(views, len(rows)),
                    keyboard=self._digest_keyboard(views),
                    now=now,
                ):
                    person.digest_sent_at = now
                    sent += 1
        return sent

    def _digest_text(self, views: list[SessionView], found: int) -> str:
        lines = ["New sessions you might like, from what you follow:", ""]
        lines += [f"• {session_summary(view, self._config.tz)}" for view in views]
        if found > len(views):
            lines.append("…and more: tap Find a session to see them all.")
        lines.append("\nTap one to see it and book.")
        return "\n".join(lines)

    def _digest_keyboard(self, views: list[SessionView]) -> list[list[Button]]:
        browse = actions.Browse("0", "a", "a")
        keyboard = [
            [Button(session_summary(view, self._config.tz), browse.show(view.id))]
            for view in views[:5]
        ]
        keyboard.append([Button("Find a session", actions.Browse().data())])
        return keyboard
