"""/start: welcome, consent, then an optional home library and a preference; and settings."""

from __future__ import annotations

from telegram import Update

from bot import actions
from bot.services.views import Button, Keyboard, LibraryView
from handlers import follows, reminders
from handlers.common import MENU_BUTTON, back_and_menu, expired_button, reply, show_menu
from handlers.consent import ask_consent
from handlers.context import CuppaContext
from handlers.sessions import book_session, location_keyboard

PREFERENCES = {"i": ("in_person", "In person"), "o": ("online", "Online"), "b": ("both", "Both")}
PREFERENCE_WORDS = {"in_person": "in person", "online": "online", "both": "in person and online"}


async def start_command(update: Update, context: CuppaContext) -> None:
    """Welcome someone new with the privacy notice; take someone known to the menu."""
    if await context.person() is None:
        await ask_consent(update, context)
    else:
        await show_menu(update, context)


async def onboarding_button(update: Update, context: CuppaContext) -> None:
    """Every on: button: consent, the home library questions and the preference."""
    data = update.callback_query.data or ""  # type: ignore[union-attr]
    if data == actions.CONSENT_NO:
        await declined(update, context)
        return
    if data == actions.consent_yes() or data.startswith(actions.consent_yes() + ":"):
        await agreed(update, context, data)
        return
    person = await context.person()
    if person is None:
        await ask_consent(update, context, lead="First, a quick question.")
        return
    if data == actions.ASK_HOME:
        await ask_home(update, context)
    elif data == actions.TYPE_TOWN:
        await context.expect("home")
        await reply(update, "Please type the name of your town or your library.")
    elif data == actions.SHARE_LOCATION:
        await context.expect("home")
        await reply(
            update,
            "Please tap “Share my location” below. I only use it to find the nearest "
            "libraries, and I don't keep it.",
            markup=location_keyboard(),
        )
    elif data in (actions.SKIP_HOME, actions.ASK_PREFERENCE):
        await context.expect(None)
        await ask_preference(update)
    elif data.startswith("on:a:"):
        await show_area(update, context, data.removeprefix("on:a:"))
    elif data.startswith("on:l:"):
        await set_home(update, context, data.removeprefix("on:l:"))
    elif data.startswith("on:p:"):
        await set_preference(update, context, data.removeprefix("on:p:"))
    else:
        await expired_button(update, context)


async def agreed(update: Update, context: CuppaContext, data: str) -> None:
    """Consent, then the home library question, or on with the booking that asked for it."""
    user = update.effective_user
    assert user is not None
    session_id = None
    if data != actions.consent_yes():
        session_id = actions.plain_number(data.removeprefix(actions.consent_yes() + ":"))
        if session_id is None:
            await expired_button(update, context)
            return
    person = await context.services.people.consent(user.id, user.first_name or "")
    context.remember(person)
    if session_id is not None:
        await book_session(update, context, session_id)
    else:
        await ask_home(update, context, lead="Thank you.")


async def declined(update: Update, context: CuppaContext) -> None:
    keyboard = [
        [Button("Look at sessions", actions.Browse().data())],
        [Button("Help", actions.HELP)],
    ]
    await reply(
        update,
        "That's fine: I haven't kept anything about you. You can still look at what's on. "
        f"To book a place, send /start again, or call us on "
        f"{context.services.config.service.phone}.",
        keyboard,
    )


async def ask_home(update: Update, context: CuppaContext, lead: str = "") -> None:
    """Which library is nearest: by area, by typing a town, or by sharing a location."""
    await context.expect("home")
    areas = await context.services.libraries.areas()
    keyboard: Keyboard = [[Button(area, actions.area(index))] for index, area in enumerate(areas)]
    keyboard += [
        [
            Button("Use my location", actions.SHARE_LOCATION),
            Button("Type my town", actions.TYPE_TOWN),
        ],
        [Button("Skip this", actions.SKIP_HOME)],
    ]
    text = (
        "Which library is nearest to you? It helps me show you sessions close to home. "
        "Choose your area, type the name of your town, or share your location."
    )
    await reply(update, f"{lead} {text}".strip(), keyboard)


async def show_area(update: Update, context: CuppaContext, index: str) -> None:
    areas = await context.services.libraries.areas()
    number = actions.plain_number(index)
    if number is None or number >= len(areas):
        await expired_button(update, context)
        return
    area = areas[number]
    libraries = await context.services.libraries.in_area(area)
    await offer_homes(update, libraries, f"Libraries in {area}: which is yours?", edit=True)


async def offer_homes(
    update: Update,
    libraries: list[LibraryView],
    text: str,
    distances: dict[int, float] | None = None,
    edit: bool = False,
) -> None:
    """Buttons to make one of these libraries your home library."""
    distances = distances or {}
    keyboard: Keyboard = []
    for library in libraries:
        label = library.name
        if library.id in distances:
            label += f" ({distances[library.id]:.1f} miles)"
        keyboard.append([Button(label, actions.home(library.id))])
    keyboard.append(back_and_menu(actions.ASK_HOME))
    await reply(update, text, keyboard, edit=edit)


async def set_home(update: Update, context: CuppaContext, library_id: str) -> None:
    person = await context.person()
    assert person is not None
    updated = None
    number = actions.plain_number(library_id)
    if number is not None:
        updated = await context.services.people.set_home_library(person.id, number)
    if updated is None or updated.home_library is None:
        await expired_button(update, context)
        return
    context.remember(updated)
    await context.expect(None)
    await ask_preference(update, lead=f"{updated.home_library.name} is now your library.")


async def ask_preference(update: Update, lead: str = "") -> None:
    keyboard = [
        [Button(label, actions.preference(code)) for code, (_, label) in PREFERENCES.items()]
    ]
    text = "Do you prefer sessions in person, online, or both?"
    await reply(update, f"{lead} {text}".strip(), keyboard)


async def set_preference(update: Update, context: CuppaContext, code: str) -> None:
    person = await context.person()
    if code not in PREFERENCES or person is None:
        await expired_button(update, context)
        return
    updated = await context.services.people.set_preference(person.id, PREFERENCES[code][0])
    context.remember(updated)
    await show_menu(update, context, "Thank you, you're all set. What would you like to do?")


async def settings_button(update: Update, context: CuppaContext) -> None:
    """Show the home library and preference, with buttons to change them."""
    person = await context.person()
    if person is None:
        await ask_consent(update, context, lead="I don't hold any settings for you yet.")
        return
    library = person.home_library.name if person.home_library else "not chosen yet"
    text = (
        f"Your library: {library}\n"
        f"You prefer sessions {PREFERENCE_WORDS.get(person.preference, 'in person and online')}."
        f"\n{reminders.reminders_line(context, person)}\n{follows.news_line(person)}"
    )
    keyboard = [
        [Button("Change my library", actions.ASK_HOME)],
        [Button("Change in person / online", actions.ASK_PREFERENCE)],
        *reminders.settings_rows(),
        *follows.settings_rows(person),
        [MENU_BUTTON],
    ]
    await reply(update, text, keyboard, edit=True)


COMMANDS = [("start", start_command)]
BUTTONS = [
    (r"^on:", onboarding_button),
    (rf"^{actions.SETTINGS}$", settings_button),
]
