"""The composition root for the domain: configuration → database → services.

Chat adapters (Telegram, the terminal) and scheduled jobs receive one `Services` and call it;
nothing else builds services.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock, system_clock
from bot.config import Config
from bot.db.database import Database
from bot.services.audit import Audit
from bot.services.bookings import Bookings
from bot.services.broadcasts import Broadcasts
from bot.services.calls import CallDesk
from bot.services.catalogue import Catalogue
from bot.services.dialogs import Dialogs
from bot.services.distress import Distress
from bot.services.follows import Follows
from bot.services.importer import SessionImporter
from bot.services.people import People
from bot.services.phones import PhoneVault
from bot.services.places import Libraries
from bot.services.privacy import Privacy
from bot.services.readers import Readers
from bot.services.reminders import Reminders
from bot.services.reports import Reports
from bot.services.staff_sessions import SessionAdmin
from bot.services.volunteers import Volunteers


@dataclass(frozen=True)
class Services:
    config: Config
    clock: Clock
    db: Database
    people: People
    libraries: Libraries
    catalogue: Catalogue
    bookings: Bookings
    admin: SessionAdmin
    importer: SessionImporter
    follows: Follows
    broadcasts: Broadcasts
    dialogs: Dialogs
    audit: Audit
    vault: PhoneVault
    volunteers: Volunteers
    readers: Readers
    calls: CallDesk
    reports: Reports
    privacy: Privacy
    distress: Distress

    def is_staff(self, telegram_id: int | None) -> bool:
        return telegram_id is not None and telegram_id in self.config.staff.telegram_ids


def build_services(
    config: Config, clock: Clock = system_clock, db: Database | None = None
) -> Services:
    db = db or Database(config.database.url, echo=config.database.echo)
    libraries = Libraries(db)
    reminders = Reminders(config)
    bookings = Bookings(db, config, clock, reminders)
    admin = SessionAdmin(db, config, clock, bookings, reminders)
    vault = PhoneVault(config.reading_friends.phone_key)
    volunteers = Volunteers(db, config, clock)
    return Services(
        config=config,
        clock=clock,
        db=db,
        people=People(db, clock),
        libraries=libraries,
        catalogue=Catalogue(db, config, clock, libraries),
        bookings=bookings,
        admin=admin,
        importer=SessionImporter(db, config, clock, admin),
        follows=Follows(db, config, clock),
        broadcasts=Broadcasts(db, config, clock),
        dialogs=Dialogs(db, clock),
        audit=Audit(db),
        vault=vault,
        volunteers=volunteers,
        readers=Readers(db, config, clock, vault, volunteers),
        calls=CallDesk(db, config, clock, vault, volunteers),
        reports=Reports(db, config, clock),
        privacy=Privacy(db, config, clock, vault, bookings, reminders),
        distress=Distress(db, config, clock),
    )
