"""Words that may mean someone is in distress, and telling staff when that someone is a reader.

The phrases live in `bot/data/distress_phrases.txt`, not in code, so they can be reviewed and
changed without touching the bot; they are read once. Matching is on folded text (lower case,
no accents or punctuation) and on whole words, so "can't cope" matches "CANT COPE!" and
"want to die" does not match "want to diet".
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from sqlalchemy import select

from bot.clock import Clock
from bot.config import Config
from bot.db.database import Database
from bot.db.models import Person, Reader
from bot.services.places import fold
from bot.services.staff_alerts import alert_staff

PHRASES_FILE = "distress_phrases.txt"
SAID_LIMIT = 200  # how much of what they wrote staff are shown


def parse_phrases(text: str) -> tuple[str, ...]:
    """The folded phrases of a phrase file: one a line, blank lines and # comments skipped."""
    phrases = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and fold(line):
            phrases.append(fold(line))
    return tuple(dict.fromkeys(phrases))


@cache
def phrases() -> tuple[str, ...]:
    return parse_phrases(files("bot").joinpath("data", PHRASES_FILE).read_text(encoding="utf-8"))


def signals_distress(text: str) -> bool:
    """True if the text holds any distress phrase as whole words."""
    padded = f" {fold(text)} "
    return padded.strip() != "" and any(f" {phrase} " in padded for phrase in phrases())


def shorten(text: str, limit: int = SAID_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Distress:
    """Telling staff, in the outbox, when a reader (or a reader's contact) sounds in distress."""

    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self._db = db
        self._config = config
        self._clock = clock

    async def alert_if_reader(self, person_id: int, said: str) -> bool:
        """Alert staff if this person is a Reading Friends reader or registered one; True if
        staff were told."""
        now = self._clock()
        async with self._db.transaction() as session:
            person = await session.get(Person, person_id)
            if person is None:
                return False
            readers = list(
                await session.scalars(
                    select(Reader.first_name)
                    .where(Reader.contact_person_id == person_id, Reader.erased_at.is_(None))
                    .order_by(Reader.id)
                )
            )
            if not readers:
                return False
            name = person.first_name or "Someone"
            text = (
                f"Please check on {name}: they may be in distress. They wrote: "
                f"\u201c{shorten(said)}\u201d\n"
                f"Reading Friends readers they registered: {', '.join(readers)}. "
                "I've shown them the Samaritans (116 123), NHS 111 and our number."
            )
            return alert_staff(session, self._config, text, now, kind="distress") > 0
