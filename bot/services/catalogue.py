"""What is on: activities and upcoming sessions, filtered and paged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.clock import Clock, day_range
from bot.config import Config
from bot.db.database import Database
from bot.db.models import Activity, Booking, LibrarySession
from bot.services.fresh import Fresh
from bot.services.places import Libraries, fold, library_view
from bot.services.views import ActivityView, Page, SessionView

DAYS = ("any", "today", "week", "next")
NEAREST_LIBRARIES = 5


@dataclass(frozen=True)
class SessionQuery:
    """Which sessions someone asked for. Place: any, some libraries, online only, or near."""

    activity_id: int | None = None
    library_ids: tuple[int, ...] | None = None
    online_only: bool = False
    near: tuple[float, float] | None = None
    day: str = "any"


def with_details(stmt: Select[tuple[LibrarySession]]) -> Select[tuple[LibrarySession]]:
    return stmt.options(joinedload(LibrarySession.activity), joinedload(LibrarySession.library))


async def session_views(
    session: AsyncSession,
    rows: Iterable[LibrarySession],
    distances: Mapping[int, float] | None = None,
) -> list[SessionView]:
    """Views with live booked and waiting counts, in one query for the lot."""
    rows = list(rows)
    counts: dict[int, tuple[int, int]] = {}
    if rows:
        result = await session.execute(
            select(
                Booking.session_id,
                func.sum(case((Booking.status == "booked", 1), else_=0)),
                func.sum(case((Booking.status == "waiting", 1), else_=0)),
            )
            .where(Booking.session_id.in_([row.id for row in rows]))
            .group_by(Booking.session_id)
        )
        counts = {sid: (int(b or 0), int(w or 0)) for sid, b, w in result}
    distances = distances or {}
    return [
        SessionView(
            id=row.id,
            activity=row.activity.name,
            activity_id=row.activity_id,
            library=library_view(row.library) if row.library else None,
            online=row.online,
            starts_at=row.starts_at,
            duration_minutes=row.duration_minutes,
            capacity=row.capacity,
            booked=counts.get(row.id, (0, 0))[0],
            waiting=counts.get(row.id, (0, 0))[1],
            notes=row.notes,
            status=row.status,
            distance_miles=distances.get(row.library_id) if row.library_id else None,
        )
        for row in rows
    ]


async def session_page(
    session: AsyncSession,
    stmt: Select[tuple[LibrarySession]],
    page: int,
    size: int,
    distances: Mapping[int, float] | None = None,
) -> Page[SessionView]:
    """One page of the sessions `stmt` selects, soonest first (a page past the end: the last)."""
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = min(max(page, 0), max(0, (total - 1) // size))
    rows = await session.scalars(
        with_details(stmt)
        .order_by(LibrarySession.starts_at, LibrarySession.id)
        .offset(page * size)
        .limit(size)
    )
    items = await session_views(session, rows, distances)
    return Page(items=items, number=page, total=total, size=size)


class Catalogue:
    """Finding sessions; nothing here changes anything."""

    def __init__(self, db: Database, config: Config, clock: Clock, libraries: Libraries) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._libraries = libraries
        self._activities: Fresh[tuple[tuple[ActivityView, str], ...]] = Fresh(self._load)

    async def _load(self) -> tuple[tuple[ActivityView, str], ...]:
        """Each activity with its search keywords, in id order."""
        async with self._db.transaction() as session:
            rows = await session.scalars(select(Activity).order_by(Activity.id))
            return tuple(
                (ActivityView(row.id, row.name, row.description), row.keywords) for row in rows
            )

    async def activities(self) -> list[ActivityView]:
        """Every activity (kept in memory a while: see `Fresh`)."""
        return [activity for activity, _ in await self._activities.get()]

    async def activity_keywords(self) -> dict[str, int]:
        """Folded word → activity id, from each activity's name and keywords."""
        words: dict[str, int] = {}
        for activity, keywords in await self._activities.get():
            for word in [activity.name, *keywords.split(",")]:
                if fold(word):
                    words[fold(word)] = activity.id
        return words

    async def get(self, session_id: int) -> SessionView | None:
        async with self._db.transaction() as session:
            row = await session.scalar(
                with_details(select(LibrarySession).where(LibrarySession.id == session_id))
            )
            if row is None:
                return None
            return (await session_views(session, [row]))[0]

    async def find(self, query: SessionQuery, page: int = 0) -> Page[SessionView]:
        """Upcoming scheduled sessions matching the query, soonest first."""
        size = self._config.sessions.page_size
        start, end = day_range(
            query.day, self._clock(), self._config.tz, self._config.sessions.horizon_days
        )
        stmt = select(LibrarySession).where(
            LibrarySession.status == "scheduled",
            LibrarySession.starts_at >= start,
            LibrarySession.starts_at < end,
        )
        if query.activity_id is not None:
            stmt = stmt.where(LibrarySession.activity_id == query.activity_id)
        distances: dict[int, float] = {}
        library_ids = query.library_ids
        if query.near is not None:
            nearest = await self._libraries.nearest(*query.near, limit=NEAREST_LIBRARIES)
            distances = {library.id: miles for library, miles in nearest}
            library_ids = tuple(distances)
        if query.online_only:
            stmt = stmt.where(LibrarySession.online.is_(True))
        elif library_ids is not None:
            stmt = stmt.where(LibrarySession.library_id.in_(library_ids))
        async with self._db.transaction() as session:
            return await session_page(session, stmt, page, size, distances)
