"""Places people give us: a shared location, or a town or library typed as text."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot import actions
from bot.actions import Browse
from bot.services.views import Button, Keyboard, LibraryView
from handlers.common import MENU_BUTTON, reply
from handlers.context import CuppaContext
from handlers.sessions import browse
from handlers.start import offer_homes


def step_from(awaiting: str | None, prefix: str) -> Browse:
    """The kind and day someone had chosen before we asked where (kept in `awaiting`)."""
    if awaiting and awaiting.startswith(prefix + ":"):
        step = actions.parse_near_me("nr:" + awaiting.removeprefix(prefix + ":"))
        if step is not None:
            return step
    return Browse()


async def location_message(update: Update, context: CuppaContext) -> None:
    """A shared location: nearest libraries for a home library, or sessions near it."""
    location = update.effective_message.location  # type: ignore[union-attr]
    assert location is not None
    services = context.services
    nearest = await services.libraries.nearest(location.latitude, location.longitude)
    person = await context.person()
    awaiting = person.awaiting if person else None
    if person is not None and awaiting is not None:
        await context.expect(None)
    closest, miles = nearest[0]
    await reply(
        update,
        f"Thank you. The nearest library to you is {closest.name}, {miles:.1f} miles away.",
        markup=ReplyKeyboardRemove(),
    )
    if awaiting == "home":
        distances = {library.id: distance for library, distance in nearest}
        libraries = [library for library, _ in nearest]
        await offer_homes(update, libraries, "Which of these is your library?", distances)
        return
    near = actions.near_place(location.latitude, location.longitude)
    await browse(update, context, step_from(awaiting, "near").replace(place=near), edit=False)


async def typed_place(update: Update, context: CuppaContext, libraries: list[LibraryView]) -> None:
    """Answer a typed town or library name that matched these libraries."""
    person = await context.person()
    awaiting = person.awaiting if person else None
    if awaiting == "home":
        await offer_homes(update, libraries, "Is it one of these?")
        return
    step = step_from(awaiting, "town")
    if person is not None and awaiting is not None:
        await context.expect(None)
    if len(libraries) == 1:
        await browse(update, context, step.replace(place=f"l{libraries[0].id}"), edit=False)
        return
    keyboard: Keyboard = [
        [Button(library.name, step.replace(place=f"l{library.id}").data())]
        for library in libraries[:8]
    ]
    if len({library.town for library in libraries}) == 1:
        everywhere = step.replace(place=f"c{libraries[0].id}").data()
        keyboard.append([Button(f"All libraries in {libraries[0].town}", everywhere)])
    keyboard.append([MENU_BUTTON])
    await reply(update, "Which library did you mean?", keyboard)
