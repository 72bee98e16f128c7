"""Building the python-telegram-bot `Application`: the same one for Telegram, chat and tests."""

from __future__ import annotations

from typing import Any

from telegram import BotCommand
from telegram.ext import Application, ContextTypes
from telegram.request import BaseRequest

from bot.core import Services
from bot.delivery.dispatcher import Dispatcher
from bot.telegram.sender import TelegramSender
from handlers import COMMANDS, register
from handlers.context import SERVICES_KEY, CuppaContext
from scheduling.delivery import DeliveryLoop

# Used when no token is configured (the terminal chat and tests): well-formed, never valid.
LOCAL_TOKEN = "7000000001:local-stand-in-no-network"
DELIVERY_KEY = "delivery"

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
        **timing,
    )


async def start_background(application: CuppaApplication) -> None:
    """Set the command menu and start delivering the outbox (run and chat call this)."""
    services: Services = application.bot_data[SERVICES_KEY]
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    dispatcher = dispatcher_for(application)
    if services.db.is_sqlite:
        await dispatcher.release_stale_claims()
    loop = DeliveryLoop(dispatcher, services.config.delivery.poll_seconds)
    loop.start()
    application.bot_data[DELIVERY_KEY] = loop


async def stop_background(application: CuppaApplication) -> None:
    """Stop delivering and close the database's connections."""
    loop: DeliveryLoop | None = application.bot_data.pop(DELIVERY_KEY, None)
    if loop is not None:
        await loop.stop()
    services: Services = application.bot_data[SERVICES_KEY]
    await services.db.dispose()
