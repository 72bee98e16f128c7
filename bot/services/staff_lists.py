"""What staff look through that residents don't: a place's sessions including ones that began in
the last day (so attendance can still be taken), beyond the residents' booking horizon, and
which sessions are sittings of a weekly one. Nothing here changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select

from bot.clock import Clock
from bot.config import Config
from bot.db.database import Database
from bot.db.models import LibrarySession
from bot.services.catalogue import session_page, session_views, with_details
from bot.services.views import Page, SessionView

RECENT = timedelta(hours=24)


class StaffLists:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self._db = db
        self._config = config
        self._clock = clock

    async def sessions(self, library_id: int | None, page: int = 0) -> Page[SessionView]:
        """Scheduled sessions at a library (None: online) that start later or began in the
        last day, soonest first."""
        size = self._config.sessions.page_size
        stmt = select(LibrarySession).where(
            LibrarySession.status == "scheduled",
            LibrarySession.starts_at >= self._clock() - RECENT,
        )
        if library_id is None:
            stmt = stmt.where(LibrarySession.online.is_(True))
        else:
            stmt = stmt.where(
                LibrarySession.library_id == library_id, LibrarySession.online.is_(False)
            )
        async with self._db.transaction() as session:
            return await session_page(session, stmt, page, size)

    async def weekly(self, session_ids: Iterable[int]) -> set[int]:
        """Which of these sessions are sittings of a weekly session."""
        ids = list(session_ids)
        if not ids:
            return set()
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(LibrarySession.id).where(
                    LibrarySession.id.in_(ids), LibrarySession.series_id.is_not(None)
                )
            )
            return set(rows)

    async def later_sittings(self, session_id: int) -> list[SessionView]:
        """The sittings of this one's weekly session from it on that are still to come
        (empty if it is a one-off)."""
        async with self._db.transaction() as session:
            target = await session.get(LibrarySession, session_id)
            if target is None or target.series_id is None:
                return []
            rows = await session.scalars(
                with_details(select(LibrarySession))
                .where(
                    LibrarySession.series_id == target.series_id,
                    LibrarySession.status == "scheduled",
                    LibrarySession.starts_at >= target.starts_at,
                    LibrarySession.starts_at > self._clock(),
                )
                .order_by(LibrarySession.starts_at)
            )
            return await session_views(session, rows)
