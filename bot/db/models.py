"""The tables. Times are stored in UTC (see `UTCDateTime`) and shown in the service's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar
from uuid import uuid4

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_key() -> str:
    """A random pseudonym: links one person's rows in the figures, identifies nobody."""
    return uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no offset, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Library(Base):
    __tablename__ = "libraries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    town: Mapped[str] = mapped_column(String(80), index=True)
    area: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    phone: Mapped[str] = mapped_column(String(30))
    accessibility: Mapped[str] = mapped_column(Text, default="")


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Words people type for it ("tea, cuppa"), comma separated: free text routing reads them.
    keywords: Mapped[str] = mapped_column(Text, default="")


class Person(Base):
    """Someone who agreed to the privacy notice. Nothing is kept for anyone who has not."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # Copied onto their bookings, so figures still count people after they are erased.
    key: Mapped[str] = mapped_column(String(32), default=new_key)
    first_name: Mapped[str] = mapped_column(String(64), default="")
    consented_at: Mapped[datetime]
    home_library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id", ondelete="SET NULL")
    )
    # "in_person", "online" or "both": sets the default place when looking for sessions.
    preference: Mapped[str] = mapped_column(String(12), default="both")
    # The question the bot is waiting for typed text on, if any (for example a town).
    awaiting: Mapped[str | None] = mapped_column(String(40))
    # Minutes before a session to remind them; None means the configured default, [] none.
    reminder_offsets: Mapped[list[int] | None] = mapped_column(JSON)
    # Agreed to hear general news from the library (broadcasts to everyone).
    news_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    # When they last got a digest of new sessions they follow.
    digest_sent_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    home_library: Mapped[Library | None] = relationship(lazy="raise")


class SessionSeries(Base):
    """A weekly session: sittings are made ahead by a scheduled job, at the same local time."""

    __tablename__ = "session_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    join_link: Mapped[str] = mapped_column(String(300), default="")
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    local_time: Mapped[str] = mapped_column(String(5))  # "10:30", in the service's time zone
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    capacity: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LibrarySession(Base):
    """One sitting of an activity, at a library or online."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_status_starts", "status", "starts_at"),
        Index("uq_sessions_series_day", "series_id", "series_day", unique=True),
        # Finding sessions (kind, library or online, then a time range): a range scan of just
        # the matching rows, rather than of every upcoming session (migration 0006).
        Index("ix_sessions_activity_search", "activity_id", "status", "starts_at"),
        Index("ix_sessions_library_search", "library_id", "status", "starts_at"),
        Index("ix_sessions_online_search", "online", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), index=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    join_link: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    capacity: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    # "scheduled" or "cancelled"
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_series.id", ondelete="SET NULL"), index=True
    )
    # The series' local day this sitting stands for (kept if staff move it to another day,
    # so the series never makes that week's sitting twice).
    series_day: Mapped[date | None] = mapped_column(Date)
    # Followers hear of it in their daily digest (not every generated weekly sitting).
    announce: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    activity: Mapped[Activity] = relationship(lazy="raise")
    library: Mapped[Library | None] = relationship(lazy="raise")


ACTIVE_BOOKING = "status IN ('booked', 'waiting')"


class Booking(Base):
    """A place (status "booked") or a place in the queue ("waiting"); "cancelled" keeps history."""

    __tablename__ = "bookings"
    __table_args__ = (
        # One live booking or waitlist place per person per session: the database refuses a double.
        Index(
            "uq_bookings_live",
            "session_id",
            "person_id",
            unique=True,
            sqlite_where=text(ACTIVE_BOOKING),
            postgresql_where=text(ACTIVE_BOOKING),
        ),
        Index("ix_bookings_session_status", "session_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    # None once the person is erased (or after the retention period): an anonymous count.
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    # The person's pseudonym, so "people reached" still counts them after they are erased.
    person_key: Mapped[str] = mapped_column(String(32), default="", index=True)
    status: Mapped[str] = mapped_column(String(12))
    # Ever on the waiting list (the figures count it whatever happened next).
    was_waitlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Marked by staff after the session: "attended" or "no_show".
    attendance: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[LibrarySession] = relationship(lazy="raise")
    person: Mapped[Person | None] = relationship(lazy="raise")


class Follow(Base):
    """A resident following an activity or a library, to hear of new sessions there."""

    __tablename__ = "follows"
    __table_args__ = (
        Index(
            "uq_follows_activity",
            "person_id",
            "activity_id",
            unique=True,
            sqlite_where=text("activity_id IS NOT NULL"),
            postgresql_where=text("activity_id IS NOT NULL"),
        ),
        Index(
            "uq_follows_library",
            "person_id",
            "library_id",
            unique=True,
            sqlite_where=text("library_id IS NOT NULL"),
            postgresql_where=text("library_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Broadcast(Base):
    """A message staff sent to an audience; its outbox rows carry its id for the report."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_telegram_id: Mapped[int] = mapped_column(BigInteger)
    # "session:<id>", "activity:<id>", "library:<id>" or "everyone"
    audience: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dialog(Base):
    """Where someone is in a multi-step flow that takes typed answers (staff forms, drafts).

    Kept in the database, not in memory, so a restart or a second process loses nothing.
    """

    __tablename__ = "dialogs"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StaffAction(Base):
    """The audit trail: every staff action, who and when."""

    __tablename__ = "staff_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboxMessage(Base):
    """A message the bot sends on its own, written in the transaction of the change behind it.

    The delivery worker sends due rows; each ends "sent", "failed" (with the reason) or
    "cancelled".
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The delivery worker's two questions, kept cheap however long the queue grows.
        Index(
            "ix_outbox_pending_due",
            "not_before",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_outbox_pending_expiry",
            "expires_at",
            sqlite_where=text("status = 'pending' AND expires_at IS NOT NULL"),
            postgresql_where=text("status = 'pending' AND expires_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    # Buttons as [[["label", "callback data"], ...], ...]: plain data, rendered by the adapter.
    # none_as_null: a message without buttons holds SQL NULL, not the JSON text 'null' that
    # every claim of it would have to parse.
    buttons: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), index=True
    )
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_bookings.id", ondelete="CASCADE"), index=True
    )
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    # Not worth sending after this (a reminder once the session has started).
    expires_at: Mapped[datetime | None]
    # "pending", "sent", "failed" or "cancelled"
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set while a delivery worker holds the row; a lapsed lease lets another worker take it.
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Volunteer(Base):
    """A Reading Friends volunteer: pending until staff approve and record their checks."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(String(32), default=new_key)
    # "pending", "approved" or "rejected"
    status: Mapped[str] = mapped_column(String(12), default="pending")
    calls_per_week: Mapped[int] = mapped_column(Integer, default=2)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The date of their safeguarding checks (DBS); too old and no new offers are made.
    checks_on: Mapped[date | None] = mapped_column(Date)
    # The last expiry warning sent (30 or 7 days before), so each goes once.
    checks_warned: Mapped[int | None] = mapped_column(Integer)
    paused_until: Mapped[date | None] = mapped_column(Date)
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(lazy="raise")


class AvailabilityWindow(Base):
    """A weekly window a volunteer can take calls in, in local time."""

    __tablename__ = "availability_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    end_minute: Mapped[int] = mapped_column(Integer)


class Reader(Base):
    """A housebound person who gets Reading Friends calls. The phone number is encrypted."""

    __tablename__ = "readers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whoever registered them (themselves, a carer or a referrer): messages about them go there.
    contact_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    # Set when staff registered them for someone without Telegram.
    registered_by_staff: Mapped[int | None] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(64))
    phone_encrypted: Mapped[str] = mapped_column(Text)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    needs: Mapped[str] = mapped_column(Text, default="")
    consented_at: Mapped[datetime]
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the reader was erased: the row stays only as an anonymous count.
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallSeries(Base):
    """A weekly call: the same day and time, and the same volunteer unless either side asks."""

    __tablename__ = "call_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    local_time: Mapped[str] = mapped_column(String(5))
    first_day: Mapped[date] = mapped_column(Date)
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteers.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallBooking(Base):
    """One call. "open" waits for matching, "offered" has a pending offer, "confirmed" has a
    volunteer; the volunteer logs how it went ("done", "no_answer" or "concern")."""

    __tablename__ = "call_bookings"
    __table_args__ = (
        Index("ix_call_bookings_status_starts", "status", "starts_at"),
        Index("uq_call_bookings_series_day", "series_id", "series_day", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("call_series.id", ondelete="SET NULL"))
    series_day: Mapped[date | None] = mapped_column(Date)
    starts_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="open")
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteers.id", ondelete="SET NULL"), index=True
    )
    # The volunteer's pseudonym, kept for "volunteers active" after they are erased.
    volunteer_key: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    logged_at: Mapped[datetime | None]
    unmatched_alerted_at: Mapped[datetime | None]
    unlogged_alerted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


LIVE_OFFER = "status IN ('pending', 'accepted')"


class CallOffer(Base):
    """A call offered to one volunteer. At most one live offer per booking (a unique index),
    so two volunteers can never both hold one call; declined offers are never repeated."""

    __tablename__ = "call_offers"
    __table_args__ = (
        Index(
            "uq_call_offers_live",
            "booking_id",
            unique=True,
            sqlite_where=text(LIVE_OFFER),
            postgresql_where=text(LIVE_OFFER),
        ),
        Index("ix_call_offers_volunteer_status", "volunteer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("call_bookings.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    # "pending", "accepted", "declined", "expired" or "withdrawn"
    status: Mapped[str] = mapped_column(String(12), default="pending")
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
