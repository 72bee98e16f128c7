"""Button data for following, news, reminder settings and staff broadcasts.

The same rules as `bot.actions`: short prefixed strings, well inside Telegram's 64 bytes, built
and parsed here only. Parsers return None for anything malformed (ids are ASCII digits, nine at
most); every id is checked again by the service that uses it.

    fo:a<activity id>   follow an activity        bc                  choose an audience
    fo:l<library id>    follow a library          bc:s                a session: where is it?
    fo:ls               what I follow             bc:s:a<area>        ...libraries in an area
    fo:u<follow id>     stop following            bc:s:l<id>:<page>   ...sessions at a library
    fo:n1 / fo:n0       news on / off             bc:s:o:<page>       ...online sessions
    rm                  reminder settings         bc:a                followers of an activity
    rm:<choice code>    choose reminders          bc:l, bc:l:a<area>  followers of a library
                                                  bc:t:<audience>     chosen: type the message
                                                  bc:y / bc:e / bc:n  send / change / cancel
                                                  bc:r:<broadcast>    the delivery report
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.actions import ID_PATTERN
from bot.services.reminders import CHOICES

FOLLOWING = "fo:ls"
BROADCAST = "bc"
BROADCAST_SEND = "bc:y"
BROADCAST_EDIT = "bc:e"
BROADCAST_CANCEL = "bc:n"
BROADCAST_SESSION = "bc:s"
BROADCAST_ACTIVITY = "bc:a"
BROADCAST_LIBRARY = "bc:l"
EVERYONE = "all"

_ID = ID_PATTERN
_PAGE = r"[0-9]{1,4}"
_AREA = r"[0-9]{1,3}"


# following and news ---------------------------------------------------------------------------


def follow_activity(activity_id: int) -> str:
    return f"fo:a{activity_id}"


def follow_library(library_id: int) -> str:
    return f"fo:l{library_id}"


def unfollow(follow_id: int) -> str:
    return f"fo:u{follow_id}"


def news(on: bool) -> str:
    return "fo:n1" if on else "fo:n0"


@dataclass(frozen=True)
class FollowAction:
    """kind: "activity" or "library" (follow), "unfollow", "list" or "news" (number 1 or 0)."""

    kind: str
    number: int = 0


_FOLLOW = re.compile(rf"fo:(?:(?P<kind>[alu])(?P<id>{_ID})|(?P<list>ls)|n(?P<news>[01]))")
_FOLLOW_KINDS = {"a": "activity", "l": "library", "u": "unfollow"}


def parse_follow(data: str) -> FollowAction | None:
    match = _FOLLOW.fullmatch(data)
    if match is None:
        return None
    if match["list"]:
        return FollowAction("list")
    if match["news"]:
        return FollowAction("news", int(match["news"]))
    return FollowAction(_FOLLOW_KINDS[match["kind"]], int(match["id"]))


# reminders -------------------------------------------------------------------------------------


def parse_reminder_choice(data: str) -> str | None:
    """The choice code of rm:<code>, if it is one of the choices offered."""
    head, sep, code = data.partition(":")
    return code if head == "rm" and sep and code in CHOICES else None


# broadcasts -----------------------------------------------------------------------------------


def session_area(index: int) -> str:
    return f"bc:s:a{index}"


def session_list(library_id: int | None, page: int = 0) -> str:
    """Upcoming sessions at a library (None: online) to choose whose people to write to."""
    return f"bc:s:o:{page}" if library_id is None else f"bc:s:l{library_id}:{page}"


def library_area(index: int) -> str:
    return f"bc:l:a{index}"


def audience(spec: str) -> str:
    """The audience is chosen: "s<session>", "a<activity>", "l<library>" or "all"."""
    return f"bc:t:{spec}"


def broadcast_report(broadcast_id: int) -> str:
    return f"bc:r:{broadcast_id}"


@dataclass(frozen=True)
class BroadcastStep:
    """kind: start, session_where, session_area, session_list, activities, library_where,
    library_area, audience, send, edit, cancel or report. `number` is an area index, a
    library id (None with session_list: online) or a broadcast id; `spec` an audience."""

    kind: str
    number: int | None = None
    page: int = 0
    spec: str = ""


_BROADCAST_FIXED = {
    "bc": "start",
    "bc:s": "session_where",
    "bc:a": "activities",
    "bc:l": "library_where",
    "bc:y": "send",
    "bc:e": "edit",
    "bc:n": "cancel",
}
_BROADCAST = re.compile(
    rf"bc:(?:s:a(?P<session_area>{_AREA})"
    rf"|s:(?:l(?P<library>{_ID})|(?P<online>o)):(?P<page>{_PAGE})"
    rf"|l:a(?P<library_area>{_AREA})"
    rf"|t:(?P<spec>[sal]{_ID}|{EVERYONE})"
    rf"|r:(?P<report>{_ID}))"
)


def parse_broadcast(data: str) -> BroadcastStep | None:
    if data in _BROADCAST_FIXED:
        return BroadcastStep(_BROADCAST_FIXED[data])
    match = _BROADCAST.fullmatch(data)
    if match is None:
        return None
    if match["session_area"] is not None:
        return BroadcastStep("session_area", int(match["session_area"]))
    if match["page"] is not None:
        library = None if match["online"] else int(match["library"])
        return BroadcastStep("session_list", library, int(match["page"]))
    if match["library_area"] is not None:
        return BroadcastStep("library_area", int(match["library_area"]))
    if match["spec"] is not None:
        return BroadcastStep("audience", spec=match["spec"])
    return BroadcastStep("report", int(match["report"]))
