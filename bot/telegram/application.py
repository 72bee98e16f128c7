"""Building the python-telegram-bot `Application`: the same one for Telegram, chat and tests."""

from __future__ import annotations

import gc
import logging
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes
from telegram.request import BaseRequest

from bot.core import Services
from bot.delivery.dispatcher import Dispatcher
from bot.telegram.sender import TelegramSender
from handlers import COMMANDS, STAFF_COMMANDS, register
from handlers.context import SERVICES_KEY, CuppaContext
from scheduling.delivery import DeliveryLoop
from scheduling.jobs import build_scheduler

log = logging.getLogger(__name__)

# Used when no token is configured (the terminal chat and tests): well-formed, never valid.
LOCAL_TOKEN = "7000000001:local-stand-in-no-network"
DELIVERY_KEY = "delivery"
SCHEDULER_KEY = "scheduler"

CuppaApplication = Application[Any, CuppaContext, Any, Any, Any, Any]


def build_application(services: Services, request: BaseRequest | None = None) -> CuppaApplication:
    """The application with every handler; `request` swaps the network for a stand-in."""
    config = services.config
    builder = (
        Application.builder()
        .token(config.telegram.token or LOCAL_TOKEN)
        .base_url(config.telegram.base_url)
        .context_types(ContextTypes(context=CuppaContext))
        .post_init(start_background)
        .post_shutdown(stop_background)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    register(application)
    return application


def dispatcher_for(application: CuppaApplication, **timing: Any) -> Dispatcher:
    """The outbox dispatcher sending through this application's bot (`timing`: sleep and
    monotonic, for tests that control time)."""
    services: Services = application.bot_data[SERVICES_KEY]
    return Dispatcher(
        services.db,
        services.config.delivery,
        services.clock,
        TelegramSender(application.bot),
        reveal=services.vault.reveal,
        **timing,
    )


async def start_background(application: CuppaApplication) -> None:
    """Set the command menu and start delivering the outbox (run and chat call this)."""
    services: Services = application.bot_data[SERVICES_KEY]
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    staff_menu = [BotCommand(name, text) for name, text in COMMANDS + STAFF_COMMANDS]
    for staff_id in services.config.staff.telegram_ids:
        try:
            await application.bot.set_my_commands(staff_menu, scope=BotCommandScopeChat(staff_id))
        except TelegramError as exc:  # a staff member who never opened the bot has no chat yet
            log.info("no staff command menu for %s: %s", staff_id, exc)
    dispatcher = dispatcher_for(application)
    if services.db.is_sqlite:
        await dispatcher.release_stale_claims()
    loop = DeliveryLoop(dispatcher, services.config.delivery.poll_seconds)
    loop.start()
    application.bot_data[DELIVERY_KEY] = loop
    scheduler = build_scheduler(services)
    scheduler.start()
    application.bot_data[SCHEDULER_KEY] = scheduler
    freeze_start_up_objects()


def freeze_start_up_objects() -> None:
    """Put what start-up made (modules, configuration, handlers: it lives as long as the
    process) out of the garbage collector's reach. Otherwise every full collection scans it all
    and pauses the event loop for about 80 ms, which holds back sends already started, so
    they reach Telegram bunched together, past the 30 a second."""
    gc.collect()
    gc.freeze()


async def stop_background(application: CuppaApplication) -> None:
    """Stop delivering and close the database's connections."""
    scheduler: AsyncIOScheduler | None = application.bot_data.pop(SCHEDULER_KEY, None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    loop: DeliveryLoop | None = application.bot_data.pop(DELIVERY_KEY, None)
    if loop is not None:
        await loop.stop()
    services: Services = application.bot_data[SERVICES_KEY]
    await services.db.dispose()
