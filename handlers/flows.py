"""The flows, in the order their handlers are tried. Each flow module declares:

- COMMANDS: (command, callback) pairs;
- BUTTONS: (regular expression on the button data, callback) pairs;
- TYPED (optional): dialog flow name → callback, for typed answers to its forms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from handlers import (
    bookings,
    broadcast,
    follows,
    help,
    privacy,
    readers_home,
    readers_register,
    reminders,
    reports,
    sessions,
    staff_attendance,
    staff_menu,
    staff_new_session,
    staff_session_admin,
    start,
    volunteer_approval,
    volunteer_calls,
    volunteer_home,
)

Callback = Callable[[Any, Any], Awaitable[None]]

FLOWS: list[ModuleType] = [
    start,
    sessions,
    bookings,
    help,
    privacy,
    reminders,
    follows,
    broadcast,
    staff_menu,
    staff_new_session,
    staff_session_admin,
    staff_attendance,
    reports,
    volunteer_home,
    volunteer_calls,
    volunteer_approval,
    readers_home,
    readers_register,
]


def typed_routes() -> dict[str, Callback]:
    """Dialog flow name → the callback that takes a typed answer in that flow."""
    routes: dict[str, Callback] = {}
    for flow in FLOWS:
        routes.update(getattr(flow, "TYPED", {}))
    return routes
