"""Libraries: by area, by a typed town or name, or nearest to a shared location."""

from __future__ import annotations

import difflib
import math
import unicodedata

from sqlalchemy import select

from bot.db.database import Database
from bot.db.models import Library
from bot.services.fresh import Fresh
from bot.services.views import LibraryView

EARTH_RADIUS_MILES = 3958.8


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance: plenty accurate across one county."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(a))


def fold(text: str) -> str:
    """Lower case, accents and punctuation dropped: 'King’s Lynn' and 'kings lynn' match."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = (c for c in decomposed if not unicodedata.combining(c))
    kept = "".join(c if c.isalnum() or c.isspace() else "" for c in letters)
    return " ".join(kept.lower().split())


def library_view(row: Library) -> LibraryView:
    return LibraryView(
        id=row.id,
        name=row.name,
        town=row.town,
        area=row.area,
        address=row.address,
        postcode=row.postcode,
        phone=row.phone,
        accessibility=row.accessibility,
        latitude=row.latitude,
        longitude=row.longitude,
    )


def _with_id(libraries: tuple[LibraryView, ...], library_id: int) -> LibraryView | None:
    return next((library for library in libraries if library.id == library_id), None)


class Libraries:
    """Read-only look-ups over the library list."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._all: Fresh[tuple[LibraryView, ...]] = Fresh(self._load)

    async def _load(self) -> tuple[LibraryView, ...]:
        async with self._db.transaction() as session:
            rows = await session.scalars(select(Library).order_by(Library.name))
            return tuple(library_view(row) for row in rows)

    async def all(self) -> list[LibraryView]:
        """Every library, by name (kept in memory a while: see `Fresh`)."""
        return list(await self._all.get())

    async def get(self, library_id: int) -> LibraryView | None:
        found = _with_id(await self._all.get(), library_id)
        if found is None:  # perhaps added since they were loaded: look again
            self._all.forget()
            found = _with_id(await self._all.get(), library_id)
        return found

    async def areas(self) -> list[str]:
        return sorted({library.area for library in await self.all()})

    async def in_area(self, area: str) -> list[LibraryView]:
        return [library for library in await self.all() if library.area == area]

    async def in_town_of(self, library_id: int) -> list[LibraryView]:
        """Every library in the same town as this one (Norwich has several)."""
        libraries = await self.all()
        town = next((lib.town for lib in libraries if lib.id == library_id), None)
        return [library for library in libraries if library.town == town]

    async def search(self, text: str) -> list[LibraryView]:
        """Libraries whose town or name matches typed text, allowing for small misspellings."""
        wanted = fold(text)
        if len(wanted) < 3:
            return []
        libraries = await self.all()
        by_town = [lib for lib in libraries if fold(lib.town) == wanted]
        if by_town:
            return by_town
        by_name = [lib for lib in libraries if wanted in fold(lib.name)]
        if by_name:
            return by_name
        close = set(
            difflib.get_close_matches(wanted, {fold(lib.town) for lib in libraries}, 3, 0.8)
        )
        return [lib for lib in libraries if fold(lib.town) in close]

    async def nearest(
        self, latitude: float, longitude: float, limit: int = 5
    ) -> list[tuple[LibraryView, float]]:
        """The closest libraries with their distance in miles, closest first."""
        measured = [
            (lib, haversine_miles(latitude, longitude, lib.latitude, lib.longitude))
            for lib in await self.all()
        ]
        measured.sort(key=lambda pair: pair[1])
        return measured[:limit]
