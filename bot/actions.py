"""The button vocabulary: short prefixed strings a button carries, built and parsed in one place.

Chat platforms hand button data back verbatim from the person's device, so nothing read here is
trusted: `parse_*` return None for anything malformed, and every id is re-checked by the service.
Telegram allows 64 bytes; every builder stays well inside that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

MAX_BYTES = 64

MENU = "m"
MY_BOOKINGS = "mb"
HELP = "hp"
PRIVACY = "pv"
SETTINGS = "st"
REMINDERS = "rm"
STAFF_MENU = "sf"
VOLUNTEER = "vo"
READING_FRIENDS = "rf"
CONSENT_NO = "on:n"
ASK_HOME = "on:h"
SKIP_HOME = "on:s"
TYPE_TOWN = "on:t"
SHARE_LOCATION = "on:g"
ASK_PREFERENCE = "on:q"

PLACE_PATTERN = r"a|h|o|[lc][0-9]{1,9}|n-?[0-9]{1,2}\.[0-9]{1,4},-?[0-9]{1,3}\.[0-9]{1,4}"
DAYS = ("a", "t", "w", "n")
UNSET = "_"


def consent_yes(session_id: int | None = None) -> str:
    """Agree to the notice; with a session id, carry on booking it afterwards."""
    return "on:y" if session_id is None else f"on:y:{session_id}"


def area(index: int) -> str:
    return f"on:a:{index}"


def home(library_id: int) -> str:
    return f"on:l:{library_id}"


def preference(code: str) -> str:
    return f"on:p:{code}"


def book(session_id: int) -> str:
    return f"bk:{session_id}"


def cancel_booking(booking_id: int) -> str:
    return f"cx:{booking_id}"


def confirm_cancel(booking_id: int) -> str:
    return f"cy:{booking_id}"


def calendar(booking_id: int) -> str:
    return f"ic:{booking_id}"


def still_coming(booking_id: int) -> str:
    return f"rc:{booking_id}"


def cannot_come(booking_id: int) -> str:
    return f"rx:{booking_id}"


def reminder_choice(code: str) -> str:
    return f"rm:{code}"


def approve_volunteer(volunteer_id: int) -> str:
    return f"va:{volunteer_id}"


def reject_volunteer(volunteer_id: int) -> str:
    return f"vr:{volunteer_id}"


def accept_offer(offer_id: int) -> str:
    return f"oa:{offer_id}"


def decline_offer(offer_id: int) -> str:
    return f"od:{offer_id}"


def log_call(call_id: int, outcome: str) -> str:
    """outcome: d (done), n (no answer) or w (worried)."""
    return f"lg:{outcome}:{call_id}"


@dataclass(frozen=True)
class Browse:
    """A step of finding sessions: any part still UNSET is asked next, in this order."""

    activity: str = UNSET  # "0" any, or an activity id
    place: str = UNSET  # a any, h home, o online, l<id> library, c<id> its town, n<lat>,<lon>
    day: str = UNSET  # a any, t today, w this week, n next week
    page: int = 0

    def data(self) -> str:
        return f"ss:{self.activity}:{self.place}:{self.day}:{self.page}"

    def show(self, session_id: int) -> str:
        """Open one session, remembering this list for the Back button."""
        return f"sv:{session_id}:{self.activity}:{self.place}:{self.day}:{self.page}"

    def replace(self, **changes: object) -> Browse:
        values = {**self.__dict__, **changes}
        return Browse(**values)  # type: ignore[arg-type]

    def near_me(self) -> str:
        """Ask for a location, then carry on with this kind and day."""
        return f"nr:{self.activity}:{self.day}"

    @property
    def next_question(self) -> str | None:
        for part in ("activity", "place", "day"):
            if getattr(self, part) == UNSET:
                return part
        return None


_BROWSE = re.compile(
    rf"(?P<activity>_|[0-9]{{1,9}}):(?P<place>_|{PLACE_PATTERN}):(?P<day>[_atwn]):"
    r"(?P<page>[0-9]{1,4})"
)
# Ids fit a 32-bit integer column: nine digits at most, so a forged huge id never reaches SQL.
ID_PATTERN = r"[0-9]{1,9}"
_ID = re.compile(ID_PATTERN)
_NEAR = re.compile(r"n(-?[0-9]{1,2}\.[0-9]{1,4}),(-?[0-9]{1,3}\.[0-9]{1,4})")


def parse_browse(parts: str) -> Browse | None:
    """Parse 'activity:place:day:page' (the tail of ss: and sv: data)."""
    match = _BROWSE.fullmatch(parts)
    if not match:
        return None
    return Browse(match["activity"], match["place"], match["day"], int(match["page"]))


def parse_near_me(data: str) -> Browse | None:
    """The kind and day carried by a near_me button."""
    head, _, rest = data.partition(":")
    activity, _, day = rest.partition(":")
    return parse_browse(f"{activity}:_:{day}:0") if head == "nr" else None


def plain_number(text: str) -> int | None:
    """A non-negative whole number written in ASCII digits (str.isdigit also takes '²')."""
    return int(text) if _ID.fullmatch(text) else None


def parse_id(data: str, prefix: str) -> int | None:
    """The number after `prefix:`, or None if the rest is not a plain id."""
    head, _, tail = data.partition(":")
    return plain_number(tail) if head == prefix else None


def near_place(latitude: float, longitude: float) -> str:
    return f"n{latitude:.4f},{longitude:.4f}"


def parse_near(place: str) -> tuple[float, float] | None:
    match = _NEAR.fullmatch(place)
    if match is None:
        return None
    latitude, longitude = float(match[1]), float(match[2])
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude


# Shared by the other button vocabularies (staff, Reading Friends) and their typed dates.

_DAY = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
# A typed ISO date, 2026-12-03 (or 2026-1-5).
TYPED_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")

Part = TypeVar("Part")


def day_data(day: date) -> str:
    """A day in button data: YYYYMMDD."""
    return f"{day:%Y%m%d}"


def make_date(year: str | int, month: str | int, day: str | int) -> date | None:
    """The date, or None if there is no such day (31 February)."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_day_data(text: str) -> date | None:
    """The day day_data wrote, or None."""
    match = _DAY.fullmatch(text)
    return make_date(*match.groups()) if match else None


def parse_grammar(
    data: str | None,
    grammar: Mapping[str, tuple[str, ...]],
    value: Callable[[str, str], Part | None],
) -> tuple[str, tuple[Part, ...]] | None:
    """Data of the form `kind:verb:part:part…`: its kind (the first two parts) and the parts,
    each read by `value(part kind, text)` as the grammar names them; None for anything that is
    not exactly that (too long, non-ASCII, an unknown kind, the wrong number of parts, a part
    that does not read)."""
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES or not data.isascii():
        return None
    parts = data.split(":")
    kind = ":".join(parts[:2])
    expected = grammar.get(kind)
    if expected is None or len(parts[2:]) != len(expected):
        return None
    values = []
    for part_kind, text in zip(expected, parts[2:], strict=True):
        read = value(part_kind, text)
        if read is None:
            return None
        values.append(read)
    return kind, tuple(values)
