"""Button data for the reader side of Reading Friends (prefix rf), built and parsed here only.

The same rules as `bot.actions`: data comes back verbatim from the person's device, so nothing
read here is trusted. `parse` returns None for anything malformed (non-ASCII, unknown verbs, the
wrong number of parts, ids longer than nine digits, impossible dates), and every reader and call
id is checked again against the person asking. Every builder stays well inside 64 bytes.

    rf                  Reading Friends: your readers    rf:v:<reader>           one reader
    rf:r                register: who is it for?         rf:k:<reader>           book: days
    rf:staff            staff register someone           rf:d:<reader>:<day>     that day's times
    rf:m                leave the form, to the menu      rf:t:<reader>:<slot>    once or weekly?
    rf:f:m / rf:f:o     for me / for someone else        rf:o / rf:e:<r>:<slot>  book once / weekly
    rf:nm               use my own first name            rf:l:<reader>           next calls
    rf:i:<interest>     tick or untick an interest       rf:x / rf:y:<r>:<call>  cancel? / yes
    rf:id               interests done                   rf:p / rf:py:<reader>   pause? / yes
    rf:n:<need>         a need from the buttons          rf:s:<reader>           start again
    rf:c:y / rf:c:n     consent yes / no                 rf:a / rf:ay:<reader>   other volunteer?
    rf:q:<step>         back to a question of the form

<day> is YYYYMMDD and <slot> YYYYMMDDHHMM, local wall-clock time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from bot import actions

HOME = actions.READING_FRIENDS  # "rf"
REGISTER = "rf:r"
STAFF_REGISTER = "rf:staff"
LEAVE = "rf:m"
MY_NAME = "rf:nm"
INTERESTS_DONE = "rf:id"
FOR_ME = "rf:f:m"
FOR_OTHER = "rf:f:o"
CONSENT_YES = "rf:c:y"
CONSENT_NO = "rf:c:n"

# The questions of the registration form, in order, and their letters in button data.
STEPS = ("who", "name", "phone", "interests", "needs", "consent")
_STEP_LETTERS = dict(zip(STEPS, "wnpidc", strict=True))
_LETTER_STEPS = {letter: step for step, letter in _STEP_LETTERS.items()}

# Needs offered as buttons: code → what is kept.
NEEDS = {
    "h": "Hard of hearing",
    "a": "Afternoons only",
    "m": "Mornings only",
    "x": "",
}

ID, DAY, SLOT, INTEREST, NEED, STEP = "id", "day", "slot", "interest", "need", "step"

GRAMMAR: dict[str, tuple[str, ...]] = {
    "rf": (),
    "rf:r": (),
    "rf:staff": (),
    "rf:m": (),
    "rf:nm": (),
    "rf:id": (),
    "rf:f:m": (),
    "rf:f:o": (),
    "rf:c:y": (),
    "rf:c:n": (),
    "rf:i": (INTEREST,),
    "rf:n": (NEED,),
    "rf:q": (STEP,),
    "rf:v": (ID,),
    "rf:k": (ID,),
    "rf:d": (ID, DAY),
    "rf:t": (ID, SLOT),
    "rf:o": (ID, SLOT),
    "rf:e": (ID, SLOT),
    "rf:l": (ID,),
    "rf:x": (ID, ID),
    "rf:y": (ID, ID),
    "rf:p": (ID,),
    "rf:py": (ID,),
    "rf:s": (ID,),
    "rf:a": (ID,),
    "rf:ay": (ID,),
}
# Kinds written with three fixed parts (rf:f:m), the rest with two (rf:v).
_THREE_PART = {"rf:f:m", "rf:f:o", "rf:c:y", "rf:c:n"}

_SLOT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})")
_CODE = re.compile(r"[a-z]{1,12}")

Value = int | date | datetime | str


@dataclass(frozen=True)
class ReaderAction:
    """A parsed button: its kind ("rf:d") and its values, typed by GRAMMAR."""

    kind: str
    values: tuple[Value, ...] = ()


# builders ---------------------------------------------------------------------------------------


def _slot(local: datetime) -> str:
    return f"{local:%Y%m%d%H%M}"


def interest(code: str) -> str:
    return f"rf:i:{code}"


def need(code: str) -> str:
    return f"rf:n:{code}"


def back_to(step: str) -> str:
    return f"rf:q:{_STEP_LETTERS[step]}"


def reader(reader_id: int) -> str:
    return f"rf:v:{reader_id}"


def book(reader_id: int) -> str:
    return f"rf:k:{reader_id}"


def day(reader_id: int, local_day: date) -> str:
    return f"rf:d:{reader_id}:{actions.day_data(local_day)}"


def how_often(reader_id: int, local: datetime) -> str:
    return f"rf:t:{reader_id}:{_slot(local)}"


def book_once(reader_id: int, local: datetime) -> str:
    return f"rf:o:{reader_id}:{_slot(local)}"


def book_weekly(reader_id: int, local: datetime) -> str:
    return f"rf:e:{reader_id}:{_slot(local)}"


def next_calls(reader_id: int) -> str:
    return f"rf:l:{reader_id}"


def cancel_call(reader_id: int, call_id: int) -> str:
    return f"rf:x:{reader_id}:{call_id}"


def confirm_cancel(reader_id: int, call_id: int) -> str:
    return f"rf:y:{reader_id}:{call_id}"


def pause(reader_id: int) -> str:
    return f"rf:p:{reader_id}"


def confirm_pause(reader_id: int) -> str:
    return f"rf:py:{reader_id}"


def resume(reader_id: int) -> str:
    return f"rf:s:{reader_id}"


def different_volunteer(reader_id: int) -> str:
    return f"rf:a:{reader_id}"


def confirm_different_volunteer(reader_id: int) -> str:
    return f"rf:ay:{reader_id}"


# parsing ----------------------------------------------------------------------------------------


def _parse_slot(text: str) -> datetime | None:
    match = _SLOT.fullmatch(text)
    if match is None:
        return None
    try:
        return datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _value(kind: str, text: str) -> Value | None:
    if kind == ID:
        return actions.plain_number(text)
    if kind == DAY:
        return actions.parse_day_data(text)
    if kind == SLOT:
        return _parse_slot(text)
    if kind == INTEREST:
        return text if _CODE.fullmatch(text) else None
    if kind == NEED:
        return text if text in NEEDS else None
    if kind == STEP:
        return _LETTER_STEPS.get(text)
    return None


def parse(data: str | None) -> ReaderAction | None:
    """The action a Reading Friends button carries, or None for anything not exactly one."""
    if data in _THREE_PART:
        return ReaderAction(data)
    parsed = actions.parse_grammar(data, GRAMMAR, _value)
    return ReaderAction(*parsed) if parsed else None
