"""The staff side's button vocabulary, built and parsed in one place: the staff menu (sf), the
new-session form (sn:), one session's admin (sx:) and attendance (sa:).

The same rules as `bot.actions`: data comes back verbatim from the person's device, so nothing
read here is trusted. `parse` returns None for anything malformed (non-ASCII, unknown verbs,
the wrong number of parts, ids longer than nine digits, impossible dates), and every id is
re-checked by the service. Every builder stays well inside Telegram's 64 bytes.

Also here: reading a day or a time that staff type into a form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

from bot import actions

MAX_BYTES = actions.MAX_BYTES

# The staff menu and the things on it.
STAFF_MENU = actions.STAFF_MENU  # "sf"
RECENT = "sf:r"
LEAVE = "sf:m"  # leave any staff form and go to the main menu
BROADCAST = "bc"  # the broadcast flow's own prefix (built elsewhere)

# The new-session form: one question at a time; the answers live in the dialog.
NEW = "sn:n"
ONLINE = "sn:o"
NO_NOTES = "sn:x"
CREATE = "sn:y"
QUIT = "sn:q"  # stop making the session, back to the staff menu

# The questions of the form, in order, and the letter each is known by in button data.
STEPS = ("activity", "where", "link", "day", "time", "length", "places", "repeat", "notes")
_STEP_LETTERS = dict(zip(STEPS, "apkdtmcrn", strict=True))
_LETTER_STEPS = {letter: step for step, letter in _STEP_LETTERS.items()}

# Looking through sessions.
WHERE = "sx:where"
ONLINE_PLACE = "o"

# Marks for attendance.
CAME, NO_SHOW = "a", "n"
MARKS = {CAME: "attended", NO_SHOW: "no_show"}


def _time(start: time) -> str:
    return f"{start:%H%M}"


# new session
def new_activity(activity_id: int) -> str:
    return f"sn:a:{activity_id}"


def new_area(index: int) -> str:
    return f"sn:r:{index}"


def new_library(library_id: int) -> str:
    return f"sn:l:{library_id}"


def new_day(day: date) -> str:
    return f"sn:d:{actions.day_data(day)}"


def new_time(start: time) -> str:
    return f"sn:t:{_time(start)}"


def new_length(minutes: int) -> str:
    return f"sn:m:{minutes}"


def new_places(capacity: int) -> str:
    return f"sn:c:{capacity}"


def new_repeat(weekly: bool) -> str:
    return f"sn:w:{'w' if weekly else 'o'}"


def new_back(step: str) -> str:
    """Go back to a question of the form (it and the ones after it are asked again)."""
    return f"sn:b:{_STEP_LETTERS[step]}"


# sessions: finding one
def area(index: int) -> str:
    return f"sx:area:{index}"


def library_place(library_id: int) -> str:
    return f"l{library_id}"


def session_list(place: str, page: int = 0) -> str:
    """A place's sessions: place is ONLINE_PLACE or library_place(id)."""
    return f"sx:list:{place}:{page}"


def session(session_id: int) -> str:
    return f"sx:view:{session_id}"


# sessions: changing one
def change_day(session_id: int) -> str:
    return f"sx:day:{session_id}"


def change_time(session_id: int, day: date) -> str:
    return f"sx:time:{session_id}:{actions.day_data(day)}"


def change_when(session_id: int, day: date, start: time) -> str:
    return f"sx:when:{session_id}:{actions.day_data(day)}:{_time(start)}"


def change_place(session_id: int) -> str:
    return f"sx:place:{session_id}"


def change_area(session_id: int, index: int) -> str:
    return f"sx:parea:{session_id}:{index}"


def change_library(session_id: int, library_id: int) -> str:
    return f"sx:lib:{session_id}:{library_id}"


def change_online(session_id: int) -> str:
    return f"sx:online:{session_id}"


def change_capacity(session_id: int) -> str:
    return f"sx:cap:{session_id}"


def set_capacity(session_id: int, capacity: int) -> str:
    return f"sx:setcap:{session_id}:{capacity}"


def change_notes(session_id: int) -> str:
    return f"sx:notes:{session_id}"


def clear_notes(session_id: int) -> str:
    return f"sx:nonotes:{session_id}"


def cancel_session(session_id: int) -> str:
    return f"sx:cancel:{session_id}"


def stop_series(session_id: int) -> str:
    return f"sx:stop:{session_id}"


def go_ahead(session_id: int) -> str:
    """Make the change the staff member was just asked to confirm (kept in their dialog)."""
    return f"sx:go:{session_id}"


# attendance
def attendance(session_id: int, page: int = 0) -> str:
    return f"sa:v:{session_id}:{page}"


def mark(session_id: int, booking_id: int, came: bool, page: int = 0) -> str:
    return f"sa:m:{session_id}:{booking_id}:{CAME if came else NO_SHOW}:{page}"


# parsing
ID, DAY, TIME, PLACE, STEP, MARK, REPEAT = "id", "day", "time", "place", "step", "mark", "repeat"

GRAMMAR: dict[str, tuple[str, ...]] = {
    "sf": (),
    "sf:r": (),
    "sf:m": (),
    "sn:n": (),
    "sn:a": (ID,),
    "sn:r": (ID,),
    "sn:l": (ID,),
    "sn:o": (),
    "sn:d": (DAY,),
    "sn:t": (TIME,),
    "sn:m": (ID,),
    "sn:c": (ID,),
    "sn:w": (REPEAT,),
    "sn:x": (),
    "sn:b": (STEP,),
    "sn:y": (),
    "sn:q": (),
    "sx:where": (),
    "sx:area": (ID,),
    "sx:list": (PLACE, ID),
    "sx:view": (ID,),
    "sx:day": (ID,),
    "sx:time": (ID, DAY),
    "sx:when": (ID, DAY, TIME),
    "sx:place": (ID,),
    "sx:parea": (ID, ID),
    "sx:lib": (ID, ID),
    "sx:online": (ID,),
    "sx:cap": (ID,),
    "sx:setcap": (ID, ID),
    "sx:notes": (ID,),
    "sx:nonotes": (ID,),
    "sx:cancel": (ID,),
    "sx:stop": (ID,),
    "sx:go": (ID,),
    "sa:v": (ID, ID),
    "sa:m": (ID, ID, MARK, ID),
}

_TIME = re.compile(r"([0-9]{2})([0-9]{2})")
_PLACE = re.compile(rf"{ONLINE_PLACE}|l[0-9]{{1,9}}")

Value = int | date | time | str | bool


@dataclass(frozen=True)
class StaffAction:
    """A parsed button: its kind ("sx:when") and its values, typed by GRAMMAR."""

    kind: str
    values: tuple[Value, ...] = ()


def _make_time(hour: int, minute: int) -> time | None:
    return time(hour, minute) if 0 <= hour <= 23 and 0 <= minute <= 59 else None


def _value(kind: str, text: str) -> Value | None:
    if kind == ID:
        return actions.plain_number(text)
    if kind == DAY:
        return actions.parse_day_data(text)
    if kind == TIME:
        match = _TIME.fullmatch(text)
        return _make_time(int(match[1]), int(match[2])) if match else None
    if kind == PLACE:
        return text if _PLACE.fullmatch(text) else None
    if kind == STEP:
        return _LETTER_STEPS.get(text)
    if kind == MARK:
        return text if text in MARKS else None
    if kind == REPEAT:
        return {"w": True, "o": False}.get(text)
    return None


def parse(data: str | None) -> StaffAction | None:
    """The action a staff button carries, or None for anything that is not exactly one."""
    parsed = actions.parse_grammar(data, GRAMMAR, _value)
    return StaffAction(*parsed) if parsed else None


def library_of(place: str) -> int | None:
    """The library id of a parsed place, or None for online."""
    return None if place == ONLINE_PLACE else int(place[1:])


# typed answers
_TYPED_UK = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_TYPED_TIME = re.compile(r"([0-9]{1,2})(?:[:.]([0-9]{2}))?\s*(am|pm)?")


def parse_typed_day(text: str) -> date | None:
    """A typed date: 2026-12-03, or the British 03/12/2026 (day first)."""
    text = text.strip()
    if match := actions.TYPED_ISO.fullmatch(text):
        return actions.make_date(match[1], match[2], match[3])
    if match := _TYPED_UK.fullmatch(text):
        return actions.make_date(match[3], match[2], match[1])
    return None


def parse_typed_time(text: str) -> time | None:
    """A typed time: 10:30, 14:00, 10.30, 2pm or 2:30pm."""
    match = _TYPED_TIME.fullmatch(text.strip().lower())
    if match is None or (match[2] is None and match[3] is None):
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3] is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match[3] == "pm" else 0)
    return _make_time(hour, minute)
