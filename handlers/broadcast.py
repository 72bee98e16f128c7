"""/broadcast (staff only): choose who hears, type the message, see it exactly as people will
with how many it goes to, send it, and watch its delivery report.

The draft lives in the database (Dialogs flow "broadcast": {"spec": audience, "text": draft}),
so a restart or a second bot process loses nothing. Every callback here is staff only: a
resident who types /broadcast or forges "bc…" data is refused and nothing changes.
"""

from __future__ import annotations

from telegram import Update

from bot import actions
from bot import resident_actions as ra
from bot.clock import format_time
from bot.resident_actions import BroadcastStep
from bot.services.broadcasts import TEXT_LIMIT, Audience, DeliveryReport
from bot.services.catalogue import SessionQuery
from bot.services.views import Button, Keyboard
from bot.wording import people, session_summary
from handlers.common import MENU_BUTTON, expired_button, reply, show_menu, staff_only
from handlers.context import CuppaContext
from handlers.forms import user_id

FLOW = "broadcast"
# On the typing step "Menu" also drops the unsent draft, so later typing isn't taken for it.
MENU_DROPPING_DRAFT = Button("Menu", ra.BROADCAST_CANCEL)


@staff_only
async def broadcast_command(update: Update, context: CuppaContext) -> None:
    """Start a broadcast: /broadcast."""
    await choose_audience(update, context, edit=False)


@staff_only
async def broadcast_button(update: Update, context: CuppaContext) -> None:
    """Every bc: button, one step of the broadcast."""
    step = ra.parse_broadcast(update.callback_query.data or "")  # type: ignore[union-attr]
    if step is None:
        await expired_button(update, context)
        return
    handlers = {
        "start": choose_audience,
        "session_where": session_where,
        "session_area": session_area,
        "session_list": session_list,
        "activities": activities,
        "library_where": library_where,
        "library_area": library_area,
        "audience": audience_chosen,
        "send": send,
        "edit": change_message,
        "cancel": cancel,
        "report": refresh_report,
    }
    await handlers[step.kind](update, context, step)


async def choose_audience(
    update: Update, context: CuppaContext, step: BroadcastStep | None = None, edit: bool = True
) -> None:
    await context.services.dialogs.clear(user_id(update))
    keyboard = [
        [Button("People booked on a session", ra.BROADCAST_SESSION)],
        [Button("Followers of an activity", ra.BROADCAST_ACTIVITY)],
        [Button("Followers of a library", ra.BROADCAST_LIBRARY)],
        [Button("Everyone who asked for news", ra.audience(ra.EVERYONE))],
        [Button("Back", actions.STAFF_MENU), MENU_BUTTON],
    ]
    await reply(update, "Who would you like to send a message to?", keyboard, edit=edit)


# choosing the audience --------------------------------------------------------------------------


async def session_where(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    areas = await context.services.libraries.areas()
    keyboard = [[Button(area, ra.session_area(index))] for index, area in enumerate(areas)]
    keyboard.append([Button("Online", ra.session_list(None))])
    keyboard.append([Button("Back", ra.BROADCAST), MENU_BUTTON])
    await reply(update, "Which session? First, where is it?", keyboard, edit=True)


async def session_area(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    areas = await context.services.libraries.areas()
    if step.number is None or step.number >= len(areas):
        await expired_button(update, context)
        return
    libraries = await context.services.libraries.in_area(areas[step.number])
    keyboard = [[Button(library.name, ra.session_list(library.id))] for library in libraries]
    keyboard.append([Button("Back", ra.BROADCAST_SESSION), MENU_BUTTON])
    await reply(update, f"Which library in {areas[step.number]}?", keyboard, edit=True)


async def session_list(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    """A page of upcoming sessions at one library (or online) to choose from."""
    services = context.services
    back = ra.BROADCAST_SESSION
    if step.number is None:
        query, where = SessionQuery(online_only=True), "online"
    else:
        library = await services.libraries.get(step.number)
        if library is None:
            await expired_button(update, context)
            return
        query, where = SessionQuery(library_ids=(library.id,)), f"at {library.name}"
        areas = await services.libraries.areas()
        if library.area in areas:
            back = ra.session_area(areas.index(library.area))
    page = await services.catalogue.find(query, step.page)
    navigation = [Button("Back", back), MENU_BUTTON]
    if not page.items:
        await reply(update, f"There are no upcoming sessions {where}.", [navigation], edit=True)
        return
    tz = services.config.tz
    keyboard: Keyboard = [
        [Button(f"{session_summary(s, tz)} ({s.booked} booked)", ra.audience(f"s{s.id}"))]
        for s in page.items
    ]
    paging = []
    if page.has_previous:
        paging.append(Button("◀ Earlier", ra.session_list(step.number, page.number - 1)))
    if page.has_next:
        paging.append(Button("Later ▶", ra.session_list(step.number, page.number + 1)))
    if paging:
        keyboard.append(paging)
    keyboard.append(navigation)
    text = (
        f"Upcoming sessions {where} (page {page.number + 1} of {page.pages}). "
        "Whose people should hear from you?"
    )
    await reply(update, text, keyboard, edit=True)


async def activities(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    keyboard = [
        [Button(activity.name, ra.audience(f"a{activity.id}"))]
        for activity in await context.services.catalogue.activities()
    ]
    keyboard.append([Button("Back", ra.BROADCAST), MENU_BUTTON])
    await reply(update, "The followers of which activity?", keyboard, edit=True)


async def library_where(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    areas = await context.services.libraries.areas()
    keyboard = [[Button(area, ra.library_area(index))] for index, area in enumerate(areas)]
    keyboard.append([Button("Back", ra.BROADCAST), MENU_BUTTON])
    await reply(
        update, "The followers of which library? First, choose the area.", keyboard, edit=True
    )


async def library_area(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    areas = await context.services.libraries.areas()
    if step.number is None or step.number >= len(areas):
        await expired_button(update, context)
        return
    libraries = await context.services.libraries.in_area(areas[step.number])
    keyboard = [[Button(library.name, ra.audience(f"l{library.id}"))] for library in libraries]
    keyboard.append([Button("Back", ra.BROADCAST_LIBRARY), MENU_BUTTON])
    await reply(update, f"Which library in {areas[step.number]}?", keyboard, edit=True)


async def nobody(update: Update, audience: Audience, edit: bool = True) -> None:
    """An audience of no one: say so; nothing is sent."""
    keyboard = [[Button("Choose someone else", ra.BROADCAST)], [MENU_BUTTON]]
    await reply(
        update,
        f"There's nobody to send to: no one is among {audience.label} yet, so I haven't "
        "sent anything.",
        keyboard,
        edit=edit,
    )


async def audience_chosen(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    """Count the audience; if anyone is in it, ask for the message."""
    audience = await context.services.broadcasts.audience(step.spec)
    if audience is None:
        await expired_button(update, context)
        return
    if audience.size == 0:
        await context.services.dialogs.clear(user_id(update))
        await nobody(update, audience)
        return
    await context.services.dialogs.set(user_id(update), FLOW, {"spec": audience.spec})
    await reply(
        update,
        f"Your message will go to {audience.label}: {people(audience.size)}.\n\n"
        "Please type your message.",
        [[Button("Back", ra.BROADCAST), MENU_DROPPING_DRAFT]],
        edit=True,
    )


# the message ------------------------------------------------------------------------------------


@staff_only
async def typed_message(update: Update, context: CuppaContext) -> None:
    """The message typed for the chosen audience: refuse it kindly, or show the preview."""
    services = context.services
    dialog = await services.dialogs.get(user_id(update))
    spec = dialog.data.get("spec") if dialog is not None else None
    if not isinstance(spec, str):
        await services.dialogs.clear(user_id(update))
        await choose_audience(update, context, edit=False)
        return
    text = (update.effective_message.text or "").strip()  # type: ignore[union-attr]
    keyboard = [[Button("Back", ra.BROADCAST), MENU_DROPPING_DRAFT]]
    if not text:
        await reply(update, "That message is empty. Please type what you'd like to send.", keyboard)
        return
    if len(text) > TEXT_LIMIT:
        await reply(
            update,
            f"Sorry, that's too long to send in one message: it has {len(text):,} characters "
            f"and the most is {TEXT_LIMIT:,}. Please type a shorter message.",
            keyboard,
        )
        return
    audience = await services.broadcasts.audience(spec)
    if audience is None or audience.size == 0:
        await services.dialogs.clear(user_id(update))
        if audience is None:
            await choose_audience(update, context, edit=False)
        else:
            await nobody(update, audience, edit=False)
        return
    await services.dialogs.set(user_id(update), FLOW, {"spec": spec, "text": text})
    await reply(update, services.broadcasts.body(text))
    preview = [
        [Button("Send it", ra.BROADCAST_SEND)],
        [Button("Change the message", ra.BROADCAST_EDIT)],
        [Button("Cancel", ra.BROADCAST_CANCEL)],
    ]
    await reply(
        update,
        f"Above is exactly what people will see. This will go to {people(audience.size)} "
        f"({audience.label}).",
        preview,
    )


async def draft_gone(update: Update) -> None:
    keyboard = [[Button("Start a new message", ra.BROADCAST)], [MENU_BUTTON]]
    await reply(
        update,
        "There's no message waiting to be sent: it has gone already or was cancelled.",
        keyboard,
        edit=True,
    )


async def change_message(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    dialog = await context.services.dialogs.get(user_id(update))
    if dialog is None or dialog.flow != FLOW or "spec" not in dialog.data:
        await draft_gone(update)
        return
    await context.services.dialogs.set(user_id(update), FLOW, {"spec": dialog.data["spec"]})
    await reply(
        update,
        "Please type your new message.",
        [[Button("Back", ra.BROADCAST), MENU_DROPPING_DRAFT]],
        edit=True,
    )


async def cancel(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    await context.services.dialogs.clear(user_id(update))
    await show_menu(update, context, "OK, nothing has been sent. What would you like to do?")


async def send(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    """Queue the previewed message for everyone in the audience, then show the report."""
    services = context.services
    dialog = await services.dialogs.get(user_id(update))
    data = dialog.data if dialog is not None and dialog.flow == FLOW else {}
    spec, text = data.get("spec"), data.get("text")
    if not isinstance(spec, str) or not isinstance(text, str):
        await draft_gone(update)
        return
    audience = await services.broadcasts.audience(spec)
    if audience is not None and audience.size == 0:
        await services.dialogs.clear(user_id(update))
        await nobody(update, audience)
        return
    report = await services.broadcasts.send(user_id(update), spec, text)
    await services.dialogs.clear(user_id(update))
    if report is None:
        await draft_gone(update)
        return
    await show_report(update, context, report, lead="Sent.")


async def refresh_report(update: Update, context: CuppaContext, step: BroadcastStep) -> None:
    report = await context.services.broadcasts.report(step.number or 0)
    if report is None:
        await expired_button(update, context)
        return
    await show_report(update, context, report)


async def show_report(
    update: Update, context: CuppaContext, report: DeliveryReport, lead: str = ""
) -> None:
    services = context.services
    audience = await services.broadcasts.audience(report.audience)
    who = audience.label if audience is not None else "the people you chose"
    now = format_time(services.clock().astimezone(services.config.tz))
    lines = [
        f"{lead} Your message to {who}: {people(report.recipients)}.".strip(),
        "",
        f"Sent: {report.sent}",
        f"Failed: {report.failed}",
        f"Can't be reached (they've blocked the bot): {report.unreachable}",
        f"Still waiting to go: {report.waiting}",
        "",
        f"Figures as of {now}. Tap Refresh to see the latest.",
    ]
    keyboard = [[Button("Refresh", ra.broadcast_report(report.broadcast_id))], [MENU_BUTTON]]
    await reply(update, "\n".join(lines), keyboard, edit=True)


COMMANDS = [("broadcast", broadcast_command)]
BUTTONS = [(r"^bc(?::|$)", broadcast_button)]
TYPED = {FLOW: typed_message}
