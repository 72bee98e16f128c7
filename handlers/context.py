"""The context every handler gets: typed access to the services and to who is speaking."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.core import Services
from bot.services.views import PersonView

SERVICES_KEY = "services"


class CuppaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """One per update (python-telegram-bot reuses it across handler groups)."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self._person: PersonView | None = None
        self._person_loaded = False

    @property
    def services(self) -> Services:
        return self.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]

    async def person(self) -> PersonView | None:
        """The speaker's profile, or None if they have not agreed to the privacy notice."""
        if not self._person_loaded and self._user_id is not None:
            self._person = await self.services.people.by_telegram(self._user_id)
            self._person_loaded = True
        return self._person

    async def expect(self, awaiting: str | None) -> None:
        """Note which question the speaker's next typed text answers (None: none is open);
        nothing is kept for someone who has not agreed to the privacy notice."""
        person = await self.person()
        if person is not None:
            await self.services.people.set_awaiting(person.id, awaiting)
            self.remember(replace(person, awaiting=awaiting))

    def remember(self, person: PersonView | None) -> None:
        """Use this profile for the rest of the update (after a service changed it)."""
        self._person, self._person_loaded = person, True

    @property
    def is_staff(self) -> bool:
        return self.services.is_staff(self._user_id)

    @property
    def staff_id(self) -> int | None:
        """The speaker's Telegram id if they are staff (what the audit trail records)."""
        return self._user_id if self.is_staff else None
