"""Button data for the volunteer side of Reading Friends, built and parsed in one place.

The same rules as `bot.actions`: short prefixed strings, well inside Telegram's 64 bytes, and
nothing read back is trusted. `parse` returns None for anything malformed; every id is checked
again by the service that uses it. The offer, log and staff approval buttons the services put on
outbox messages are built in `bot.actions` (oa:, od:, lg:, va:, vr:); they are parsed here.

    vo            my volunteering               vo:c:<1-5>     calls a week
    vo:x          leave the form, to the menu   vo:i:<code>    tick or untick an interest
    vo:d:<0-6>    a day for a time              vo:k           interests done: register
    vo:f:<minute> ...from                       vo:m           my calls
    vo:u:<minute> ...until                      vo:h:<call>    how did it go? (the log buttons)
    vo:a          add another time              vo:n:<call>    worried: tell staff with no note
    vo:z          back: undo the last time      vo:t           change my times
    vo:w          the times so far              vo:p           pause for a holiday
    vo:e          that's all (times)            vo:p:<1w|2w|1m|t>  for how long / type a date
    vo:r          start again after a pause     vr:<id>:y      staff: yes, reject
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot import actions
from bot.services.readers import INTERESTS

HOME = actions.VOLUNTEER  # "vo"
LEAVE = "vo:x"
ADD_TIME = "vo:a"
UNDO_TIME = "vo:z"
TIMES_SO_FAR = "vo:w"
TIMES_DONE = "vo:e"
INTERESTS_DONE = "vo:k"
MY_CALLS = "vo:m"
CHANGE_TIMES = "vo:t"
PAUSE = "vo:p"
RESUME = "vo:r"
TYPE_DATE = "t"
PAUSE_CHOICES = ("1w", "2w", "1m", TYPE_DATE)
OUTCOMES = {"d": "done", "n": "no_answer", "w": "concern"}
MAX_CALLS = 5


def day(weekday: int) -> str:
    return f"vo:d:{weekday}"


def start_time(minute: int) -> str:
    return f"vo:f:{minute}"


def end_time(minute: int) -> str:
    return f"vo:u:{minute}"


def calls_per_week(count: int) -> str:
    return f"vo:c:{count}"


def interest(code: str) -> str:
    return f"vo:i:{code}"


def how_did_it_go(call_id: int) -> str:
    return f"vo:h:{call_id}"


def no_note(call_id: int) -> str:
    return f"vo:n:{call_id}"


def pause_for(choice: str) -> str:
    return f"vo:p:{choice}"


def confirm_reject(volunteer_id: int) -> str:
    return f"{actions.reject_volunteer(volunteer_id)}:y"


@dataclass(frozen=True)
class VolunteerAction:
    """A parsed vo: button: its verb (the letter after vo:, "" for vo) and its value."""

    verb: str
    value: int | str | None = None


_ID = actions.ID_PATTERN
_VO = re.compile(
    r"vo(?::(?:"
    r"(?P<bare>[xazwekmtr])"
    r"|d:(?P<day>[0-6])"
    r"|(?P<time>[fu]):(?P<minute>[0-9]{1,4})"
    rf"|c:(?P<calls>[1-{MAX_CALLS}])"
    r"|i:(?P<interest>[a-z]{1,12})"
    rf"|(?P<call>[hn]):(?P<call_id>{_ID})"
    r"|p(?::(?P<pause>1w|2w|1m|t))?"
    r"))?"
)
_ANSWER = re.compile(rf"o([ad]):({_ID})")
_LOG = re.compile(rf"lg:([dnw]):({_ID})")
_STAFF = re.compile(rf"v([ar]):({_ID})(:y)?")


def parse(data: str | None) -> VolunteerAction | None:
    """A vo: button, or None if malformed (an unknown interest, a minute off the half hour...)."""
    match = _VO.fullmatch(data or "")
    if match is None:
        return None
    if match["bare"]:
        return VolunteerAction(match["bare"])
    if match["day"]:
        return VolunteerAction("d", int(match["day"]))
    if match["time"]:
        minute = int(match["minute"])
        if minute > 1440 or minute % 30:
            return None
        return VolunteerAction(match["time"], minute)
    if match["calls"]:
        return VolunteerAction("c", int(match["calls"]))
    if match["interest"]:
        code = match["interest"]
        return VolunteerAction("i", code) if code in INTERESTS else None
    if match["call"]:
        return VolunteerAction(match["call"], int(match["call_id"]))
    if data and data.startswith("vo:p"):
        return VolunteerAction("p", match["pause"])
    return VolunteerAction("")


def parse_answer(data: str | None) -> tuple[bool, int] | None:
    """An offer button: (accept, offer id)."""
    match = _ANSWER.fullmatch(data or "")
    return (match[1] == "a", int(match[2])) if match else None


def parse_log(data: str | None) -> tuple[str, int] | None:
    """A call log button: (outcome as the call desk names it, call id)."""
    match = _LOG.fullmatch(data or "")
    return (OUTCOMES[match[1]], int(match[2])) if match else None


def parse_staff(data: str | None) -> tuple[str, int, bool] | None:
    """A staff button on a new volunteer: ("a" approve or "r" reject, volunteer id, confirmed).
    Only a reject is confirmed with :y."""
    match = _STAFF.fullmatch(data or "")
    if match is None or (match[1] == "a" and match[3]):
        return None
    return match[1], int(match[2]), bool(match[3])


# typed dates
_UK = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{2}|[0-9]{4})")


def parse_typed_date(text: str) -> date | None:
    """A typed date: the British 03/11/2026 (day first; also 3.11.26 or 3-11-2026) or
    2026-11-03."""
    text = text.strip()
    if match := actions.TYPED_ISO.fullmatch(text):
        return actions.make_date(match[1], match[2], match[3])
    if match := _UK.fullmatch(text):
        year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
        return actions.make_date(year, match[2], match[1])
    return None
