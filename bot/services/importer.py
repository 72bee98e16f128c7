"""Importing sessions from a staff spreadsheet (CSV): every row checked first, then all or none.

Columns (a header row names them; order does not matter):
  activity          an activity's name, e.g. Just a Cuppa                      (required)
  library           a library's name, e.g. Dereham Library, or Online          (required)
  date              2026-12-03 or 03/12/2026                                    (required)
  time              10:30 (24-hour, local time)                                 (required)
  duration_minutes  default 60
  capacity          places, default 12
  join_link         required for Online sessions
  notes             accessibility and other notes
  weekly_until      a date: makes a weekly session until then (blank: one-off)
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select

from bot.clock import Clock
from bot.config import Config
from bot.db.database import Database
from bot.db.models import Activity, Library
from bot.services.places import fold
from bot.services.staff_sessions import PlanError, SessionAdmin, SessionPlan, check_plan

REQUIRED = ("activity", "library", "date", "time")
COLUMNS = (*REQUIRED, "duration_minutes", "capacity", "join_link", "notes", "weekly_until")
IMPORTER_ID = 0  # the audit trail's "who" for the command line


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


def parse_day(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date like 2026-12-03 or 03/12/2026")


def parse_number(text: str, default: int, name: str) -> int:
    if not text:
        return default
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{name} should be a whole number, not {text!r}")
    return int(text)


class SessionImporter:
    def __init__(self, db: Database, config: Config, clock: Clock, admin: SessionAdmin) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._admin = admin

    async def check(self, text: str) -> tuple[list[tuple[int, SessionPlan]], list[Problem]]:
        """Read every row; return the plans and every problem with its line number."""
        async with self._db.transaction() as session:
            activities = {fold(a.name): a.id for a in await session.scalars(select(Activity))}
            libraries = {fold(lib.name): lib.id for lib in await session.scalars(select(Library))}
        reader = csv.DictReader(text.splitlines())
        header = ["_".join(name.lower().split()) for name in reader.fieldnames or []]
        missing = [name for name in REQUIRED if name not in header]
        unknown = [name for name in header if name not in COLUMNS]
        if missing or unknown:
            message = f"the header needs {', '.join(REQUIRED)}"
            if unknown:
                message += f"; unknown columns: {', '.join(unknown)}"
            return [], [Problem(1, message)]
        reader.fieldnames = header
        plans: list[tuple[int, SessionPlan]] = []
        problems: list[Problem] = []
        for row in reader:
            line = reader.line_num
            values = {key: (value or "").strip() for key, value in row.items() if key}
            try:
                plan = self._plan(values, activities, libraries)
                check_plan(plan, self._clock(), self._config)
            except (ValueError, PlanError) as exc:
                problems.append(Problem(line, str(exc)))
                continue
            plans.append((line, plan))
        if not plans and not problems:
            problems.append(Problem(1, "there are no rows to import"))
        return plans, problems

    def _plan(
        self, values: dict[str, str], activities: dict[str, int], libraries: dict[str, int]
    ) -> SessionPlan:
        for name in REQUIRED:
            if not values.get(name):
                raise ValueError(f"{name} is missing")
        activity = activities.get(fold(values["activity"]))
        if activity is None:
            raise ValueError(f"unknown activity {values['activity']!r}")
        place = fold(values["library"])
        library = None
        if place != "online":
            library = libraries.get(place) or libraries.get(place + " library")
            if library is None:
                raise ValueError(f"unknown library {values['library']!r}")
        try:
            start = time.fromisoformat(values["time"])
        except ValueError:
            raise ValueError(f"{values['time']!r} is not a time like 10:30") from None
        until = values.get("weekly_until", "")
        return SessionPlan(
            activity_id=activity,
            library_id=library,
            day=parse_day(values["date"]),
            start=start,
            duration_minutes=parse_number(
                values.get("duration_minutes", ""), 60, "duration_minutes"
            ),
            capacity=parse_number(values.get("capacity", ""), 12, "capacity"),
            join_link=values.get("join_link", ""),
            notes=values.get("notes", ""),
            weekly=bool(until),
            last_day=parse_day(until) if until else None,
        )

    async def load(
        self, plans: list[tuple[int, SessionPlan]], progress: Callable[[int], None]
    ) -> int:
        """Add every plan in one transaction (a failure leaves nothing half-imported)."""
        async with self._db.transaction() as session:
            for _, plan in plans:
                await self._admin.add_plan(session, IMPORTER_ID, plan)
                progress(1)
        return len(plans)
