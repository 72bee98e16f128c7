"""Finding a session (one question at a time: what, where, when), opening one, and booking it."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update

from bot import actions
from bot.actions import Browse
from bot.services.catalogue import SessionQuery
from bot.services.views import Button, Keyboard, SessionView
from bot.wording import booking_text, session_summary, session_text
from handlers.common import MENU_BUTTON, back_and_menu, expired_button, reply
from handlers.consent import ask_consent
from handlers.context import CuppaContext
from handlers.follows import follow_buttons

DAY_LABELS = {"t": "today", "w": "this week", "n": "next week", "a": "in the next four weeks"}
LOCATION_BUTTON = "📍 Share my location"


def location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(LOCATION_BUTTON, request_location=True)], [KeyboardButton("Cancel")]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )


async def sessions_command(update: Update, context: CuppaContext) -> None:
    """Start finding a session: /sessions."""
    await browse(update, context, Browse(), edit=False)


async def browse_button(update: Update, context: CuppaContext) -> None:
    """A step of finding sessions, from a button."""
    step = actions.parse_browse(update.callback_query.data.removeprefix("ss:"))  # type: ignore[union-attr]
    if step is None:
        await browse(update, context, Browse())
        return
    await browse(update, context, step)


async def browse(update: Update, context: CuppaContext, step: Browse, edit: bool = True) -> None:
    """Ask the next unanswered question, or show the list when all are answered."""
    question = step.next_question
    if question == "activity":
        await ask_activity(update, context, step, edit)
    elif question == "place":
        await ask_place(update, context, step, edit)
    elif question == "day":
        await reply(update, "When would you like to go?", day_keyboard(step), edit=edit)
    else:
        await show_list(update, context, step, edit)


async def ask_activity(update: Update, context: CuppaContext, step: Browse, edit: bool) -> None:
    activities = await context.services.catalogue.activities()
    keyboard = [[Button(a.name, step.replace(activity=str(a.id)).data())] for a in activities]
    keyboard.append([Button("Any kind of session", step.replace(activity="0").data())])
    keyboard.append([MENU_BUTTON])
    await reply(update, "What kind of session are you looking for?", keyboard, edit=edit)


async def ask_place(update: Update, context: CuppaContext, step: Browse, edit: bool) -> None:
    person = await context.person()
    keyboard: Keyboard = []
    if person and person.home_library:
        label = f"At {person.home_library.name}"
        keyboard.append([Button(label, step.replace(place="h").data())])
    keyboard += [
        [Button("Near me (share my location)", step.near_me())],
        [Button("Online", step.replace(place="o").data())],
        [Button("Anywhere in Norfolk", step.replace(place="a").data())],
        back_and_menu(step.replace(activity=actions.UNSET).data()),
    ]
    text = "Where would you like to go? You can also type the name of a town or library."
    await context.expect(f"town:{step.activity}:{step.day}")
    await reply(update, text, keyboard, edit=edit)


def day_keyboard(step: Browse) -> Keyboard:
    return [
        [
            Button("Today", step.replace(day="t").data()),
            Button("This week", step.replace(day="w").data()),
        ],
        [
            Button("Next week", step.replace(day="n").data()),
            Button("Any day", step.replace(day="a").data()),
        ],
        back_and_menu(step.replace(place=actions.UNSET).data()),
    ]


async def near_me_button(update: Update, context: CuppaContext) -> None:
    """Ask for a location to find sessions near; remember what else was chosen if we may."""
    step = actions.parse_near_me(update.callback_query.data)  # type: ignore[union-attr]
    if step is not None:
        await context.expect(f"near:{step.activity}:{step.day}")
    await reply(
        update,
        "Please tap “Share my location” below. I only use it to find the nearest libraries, "
        "and I don't keep it.",
        markup=location_keyboard(),
    )


async def query_for(context: CuppaContext, step: Browse) -> tuple[SessionQuery, str] | None:
    """Turn the chosen place into a search and a few words describing it; None if invalid."""
    activity_id = int(step.activity) or None
    day = {"t": "today", "w": "week", "n": "next", "a": "any"}[step.day]
    place = step.place
    if place == "a":
        return SessionQuery(activity_id=activity_id, day=day), "anywhere in Norfolk"
    if place == "o":
        return SessionQuery(activity_id=activity_id, online_only=True, day=day), "online"
    if place.startswith("n"):
        near = actions.parse_near(place)
        if near is None:
            return None
        return SessionQuery(activity_id=activity_id, near=near, day=day), "near you"
    if place == "h":
        person = await context.person()
        if person is None or person.home_library is None:
            return None
        library_ids: tuple[int, ...] = (person.home_library.id,)
        where = f"at {person.home_library.name}"
    else:
        library_id = int(place[1:])
        if place.startswith("c"):
            libraries = await context.services.libraries.in_town_of(library_id)
            where = f"in {libraries[0].town}" if libraries else ""
        else:
            library = await context.services.libraries.get(library_id)
            libraries = [library] if library else []
            where = f"at {library.name}" if library else ""
        if not libraries:
            return None
        library_ids = tuple(library.id for library in libraries)
    return SessionQuery(activity_id=activity_id, library_ids=library_ids, day=day), where


async def show_list(update: Update, context: CuppaContext, step: Browse, edit: bool) -> None:
    """One page of matching sessions, each in full, with buttons to open them."""
    found = await query_for(context, step)
    if found is None:
        await browse(update, context, step.replace(place=actions.UNSET), edit)
        return
    query, where = found
    catalogue = context.services.catalogue
    activity = "sessions"
    if query.activity_id is not None:
        names = {a.id: a.name for a in await catalogue.activities()}
        if query.activity_id not in names:
            await expired_button(update, context)
            return
        activity = f"{names[query.activity_id]} sessions"
    page = await catalogue.find(query, step.page)
    step = step.replace(page=page.number)
    tz = context.services.config.tz
    heading = f"{activity[0].upper()}{activity[1:]} {where}, {DAY_LABELS[step.day]}"
    if not page.items:
        text = (
            f"I couldn't find any {activity} {where} {DAY_LABELS[step.day]}. "
            "Try another day or place, or call us on "
            f"{context.services.config.service.phone}."
        )
        await reply(update, text, change_keyboard(step), edit=edit)
        return
    blocks = [f"{heading}: {page.total} found (page {page.number + 1} of {page.pages})."]
    first = page.number * page.size
    for number, session in enumerate(page.items, start=first + 1):
        blocks.append(f"{number}. {session_text(session, tz)}")
    keyboard = [
        [Button(f"{number}. {session_summary(s, tz)}", step.show(s.id))]
        for number, s in enumerate(page.items, start=first + 1)
    ]
    paging = []
    if page.has_previous:
        paging.append(Button("◀ Earlier", step.replace(page=page.number - 1).data()))
    if page.has_next:
        paging.append(Button("Later ▶", step.replace(page=page.number + 1).data()))
    if paging:
        keyboard.append(paging)
    keyboard += change_keyboard(step)
    text = "\n\n".join(blocks) + "\n\nTap a session to book it."
    await reply(update, text, keyboard, edit=edit)


def change_keyboard(step: Browse) -> Keyboard:
    return [
        [
            Button("Change kind", step.replace(activity=actions.UNSET, page=0).data()),
            Button("Change place", step.replace(place=actions.UNSET, page=0).data()),
            Button("Change day", step.replace(day=actions.UNSET, page=0).data()),
        ],
        [MENU_BUTTON],
    ]


async def session_button(update: Update, context: CuppaContext) -> None:
    """Open one session from a list: its details and Book or Join the waiting list."""
    head, _, rest = update.callback_query.data.removeprefix("sv:").partition(":")  # type: ignore[union-attr]
    step = actions.parse_browse(rest)
    session_id = actions.plain_number(head)
    session = await context.services.catalogue.get(session_id) if session_id is not None else None
    if step is None or session is None:
        await expired_button(update, context)
        return
    await show_session(update, context, session, step)


async def show_session(
    update: Update, context: CuppaContext, session: SessionView, step: Browse
) -> None:
    tz = context.services.config.tz
    keyboard: Keyboard = []
    text = session_text(session, tz)
    if session.status != "scheduled" or session.starts_at <= context.services.clock():
        text += "\n\nThis session can't be booked any more."
    elif session.places_left:
        keyboard.append([Button("Book a place", actions.book(session.id))])
    else:
        keyboard.append([Button("Join the waiting list", actions.book(session.id))])
    keyboard += await follow_buttons(context, session)
    keyboard.append(back_and_menu(step.data()))
    await reply(update, text, keyboard, edit=True)


async def book_button(update: Update, context: CuppaContext) -> None:
    """Book a place, or a waiting-list place if it is full."""
    session_id = actions.parse_id(update.callback_query.data, "bk")  # type: ignore[union-attr]
    if session_id is None:
        await expired_button(update, context)
        return
    await book_session(update, context, session_id)


async def book_session(update: Update, context: CuppaContext, session_id: int) -> None:
    """Shared by the Book button and by agreeing to the privacy notice half-way through."""
    person = await context.person()
    if person is None:
        await ask_consent(update, context, session_id=session_id)
        return
    outcome = await context.services.bookings.request_place(person.id, session_id)
    tz = context.services.config.tz
    phone = context.services.config.service.phone
    if outcome.booking is None:
        text = {
            "started": "Sorry, that session has already started, so it can't be booked now.",
        }.get(outcome.result, "Sorry, that session isn't running any more.")
        keyboard = [[Button("Find another session", Browse().data())], [MENU_BUTTON]]
        await reply(update, f"{text} If you need help, call us on {phone}.", keyboard)
        return
    booking = outcome.booking
    lead = {
        "booked": "You're booked in. See you there!",
        "waiting": "That session is full, so I've put you on the waiting list. "
        "I'll message you straight away if a place comes up.",
        "already": "You've already got this one.",
    }[outcome.result]
    keyboard = []
    if booking.is_booked:
        keyboard.append([Button("Add to my calendar", actions.calendar(booking.id))])
    keyboard += [[Button("My bookings", actions.MY_BOOKINGS)], [MENU_BUTTON]]
    await reply(update, f"{lead}\n\n{booking_text(booking, tz)}", keyboard)


COMMANDS = [("sessions", sessions_command)]
BUTTONS = [
    (r"^ss:", browse_button),
    (r"^nr:", near_me_button),
    (r"^sv:", session_button),
    (r"^bk:", book_button),
]
