"""Plain objects the services return: no ORM rows and no chat-platform types leave the domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Button:
    """A button as plain data: what it says and the action string it carries back."""

    label: str
    data: str


Keyboard = list[list[Button]]


@dataclass(frozen=True)
class LibraryView:
    id: int
    name: str
    town: str
    area: str
    address: str
    postcode: str
    phone: str
    accessibility: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class ActivityView:
    id: int
    name: str
    description: str


@dataclass(frozen=True)
class PersonView:
    id: int
    telegram_id: int | None
    first_name: str
    home_library: LibraryView | None
    preference: str
    awaiting: str | None
    reachable: bool
    news_opt_in: bool = False
    # Minutes before a session to remind them; None: the configured default, (): none.
    reminder_offsets: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SessionView:
    id: int
    activity: str
    activity_id: int
    library: LibraryView | None
    online: bool
    starts_at: datetime
    duration_minutes: int
    capacity: int
    booked: int
    waiting: int
    notes: str
    status: str
    distance_miles: float | None = None

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class BookingView:
    id: int
    status: str
    session: SessionView
    waiting_position: int | None
    join_link: str | None

    @property
    def is_booked(self) -> bool:
        return self.status == "booked"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    total: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return (self.number + 1) * self.size < self.total


@dataclass(frozen=True)
class WindowView:
    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class VolunteerView:
    id: int
    person_id: int
    first_name: str
    status: str
    calls_per_week: int
    interests: list[str]
    checks_on: date | None
    paused_until: date | None
    windows: list[WindowView]


@dataclass(frozen=True)
class ReaderView:
    id: int
    first_name: str
    interests: list[str]
    needs: str
    paused: bool
    contact_person_id: int | None


@dataclass(frozen=True)
class CallView:
    id: int
    reader_id: int
    reader_name: str
    starts_at: datetime
    status: str
    volunteer_name: str | None
    outcome: str | None
    weekly: bool
