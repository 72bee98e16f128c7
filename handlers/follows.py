"""Following an activity or a library (from a session's details), what I follow with Unfollow
buttons, and news from the library on or off: all kept only with the person's consent."""

from __future__ import annotations

from telegram import Update

from bot import actions, resident_actions
from bot.resident_actions import FOLLOWING, FollowAction
from bot.services.views import Button, Keyboard, PersonView, SessionView
from handlers.common import MENU_BUTTON, back_and_menu, expired_button, reply
from handlers.consent import ask_consent
from handlers.context import CuppaContext

ASK_FIRST = "To follow sessions, I need your OK to keep a few details about you first."


async def follow_buttons(context: CuppaContext, session: SessionView) -> Keyboard:
    """Rows for a session's details: follow its activity and, in person, its library."""
    if await context.person() is None:
        return []
    rows = [
        [
            Button(
                f"Follow {session.activity}", resident_actions.follow_activity(session.activity_id)
            )
        ]
    ]
    if not session.online and session.library is not None:
        label = f"Follow {session.library.name}"
        rows.append([Button(label, resident_actions.follow_library(session.library.id))])
    return rows


def news_line(person: PersonView) -> str:
    return f"News from the library: {'on' if person.news_opt_in else 'off'}"


def settings_rows(person: PersonView) -> Keyboard:
    news = "News: turn off" if person.news_opt_in else "News: turn on"
    return [
        [Button("What I follow", FOLLOWING)],
        [Button(news, resident_actions.news(not person.news_opt_in))],
    ]


async def follow_button(update: Update, context: CuppaContext) -> None:
    """Every fo: button: follow, the list, unfollow, and news on or off."""
    action = resident_actions.parse_follow(update.callback_query.data or "")  # type: ignore[union-attr]
    person = await context.person()
    if person is None:
        await ask_consent(update, context, lead=ASK_FIRST)
        return
    if action is None:
        await expired_button(update, context)
    elif action.kind in ("activity", "library"):
        await follow(update, context, person, action)
    elif action.kind == "list":
        await show_following(update, context, person)
    elif action.kind == "unfollow":
        await unfollow(update, context, person, action.number)
    else:
        await set_news(update, context, person, bool(action.number))


async def follow(
    update: Update, context: CuppaContext, person: PersonView, action: FollowAction
) -> None:
    services = context.services
    if action.kind == "activity":
        names = {a.id: a.name for a in await services.catalogue.activities()}
        name = names.get(action.number)
    else:
        library = await services.libraries.get(action.number)
        name = library.name if library else None
    if name is None:
        await expired_button(update, context)
        return
    if action.kind == "activity":
        followed = await services.follows.follow(person.id, activity_id=action.number)
    else:
        followed = await services.follows.follow(person.id, library_id=action.number)
    if followed:
        text = (
            f"You're now following {name}. When new sessions are added, I'll send you a short "
            "message about them, once a day at most."
        )
    else:
        text = f"You're already following {name}."
    keyboard = [[Button("What I follow", FOLLOWING)], [MENU_BUTTON]]
    # A new message, so the session's details (and their Back button) stay where they were.
    await reply(update, text, keyboard)


async def show_following(
    update: Update, context: CuppaContext, person: PersonView, lead: str = ""
) -> None:
    following = await context.services.follows.following(person.id)
    if not following:
        text = (
            "You're not following anything yet. To follow an activity or a library, open one "
            "of its sessions and tap Follow."
        )
        keyboard: Keyboard = [[Button("Find a session", actions.Browse().data())]]
    else:
        lines = [f"• {follow.label}" for follow in following]
        text = (
            "You follow:\n"
            + "\n".join(lines)
            + "\n\nI'll tell you about new sessions there, once a day at most."
        )
        keyboard = [
            [Button(f"Unfollow {follow.label}", resident_actions.unfollow(follow.id))]
            for follow in following
        ]
    keyboard.append(back_and_menu(actions.SETTINGS))
    await reply(update, f"{lead}\n\n{text}".strip(), keyboard, edit=True)


async def unfollow(
    update: Update, context: CuppaContext, person: PersonView, follow_id: int
) -> None:
    following = {
        follow.id: follow.label for follow in await context.services.follows.following(person.id)
    }
    if follow_id in following and await context.services.follows.unfollow(person.id, follow_id):
        lead = f"Done: you've stopped following {following[follow_id]}."
    else:
        lead = "That one had already gone."
    await show_following(update, context, person, lead)


async def set_news(update: Update, context: CuppaContext, person: PersonView, on: bool) -> None:
    updated = await context.services.people.set_news(person.id, on)
    if updated is None:
        await expired_button(update, context)
        return
    context.remember(updated)
    if on:
        text = (
            "Done: I'll send you the occasional bit of news from the library. "
            "You can turn it off here at any time."
        )
    else:
        text = "Done: no more news from the library. You can turn it back on here at any time."
    await reply(update, text, [back_and_menu(actions.SETTINGS)], edit=True)


COMMANDS: list[tuple[str, object]] = []
BUTTONS = [(r"^fo:", follow_button)]
