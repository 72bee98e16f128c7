"""Calendar files (.ics) for a booking, so people can keep sessions in their own calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot.services.views import BookingView
from bot.wording import place_line

PRODUCT_ID = "-//Norfolk Libraries//Cuppa bot//EN"


def booking_calendar(booking: BookingView, service_name: str, stamp: datetime) -> bytes:
    """One event with a reminder an hour before; the join link only for a booked place."""
    session = booking.session
    event = Event()
    event.add("uid", f"booking-{booking.id}-session-{session.id}@cuppa")
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", f"{session.activity} ({service_name})")
    event.add("location", place_line(session))
    description = [f"{session.activity} with {service_name}."]
    if booking.join_link:
        description.append(f"Join online: {booking.join_link}")
        event.add("url", booking.join_link)
    if session.library is not None:
        description.append(f"Library phone: {session.library.phone}")
    event.add("description", "\n".join(description))
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{session.activity} starts in an hour")
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add_component(event)
    return calendar.to_ical()
