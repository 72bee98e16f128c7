"""Readers' phone numbers: checked as UK numbers, and encrypted at rest (Fernet).

Only ciphertext is stored; the key comes from configuration and never reaches the database.
"""

from __future__ import annotations

import re

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken

REGION = "GB"
# A number in a message kept for sending later, still encrypted (see `sealed_mark`).
_SEALED = re.compile(r"\[\[phone:([A-Za-z0-9_=-]+)\]\]")


class PhoneKeyError(Exception):
    """The phone key is missing or wrong: numbers cannot be stored or read."""


def uk_number(text: str) -> str | None:
    """The number in international form (+441603774774) if `text` is a valid UK number."""
    try:
        parsed = phonenumbers.parse(text[:40], REGION)
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 44 or not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def readable(number: str) -> str:
    """01603 774774, as people write it in the UK."""
    parsed = phonenumbers.parse(number, REGION)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def sealed_mark(sealed: str) -> str:
    """Stands for a number in a message written now and sent later: the outbox keeps it
    encrypted, and `PhoneVault.reveal` puts the number in only as the message goes."""
    return f"[[phone:{sealed}]]"


def new_key() -> str:
    return Fernet.generate_key().decode()


class PhoneVault:
    def __init__(self, key: str) -> None:
        self._fernet: Fernet | None = None
        if key:
            try:
                self._fernet = Fernet(key.encode())
            except ValueError:
                raise PhoneKeyError(
                    "reading_friends.phone_key is not a valid key (make one with "
                    "`cuppa-bot new-key`)"
                ) from None

    @property
    def ready(self) -> bool:
        return self._fernet is not None

    def _require(self) -> Fernet:
        if self._fernet is None:
            raise PhoneKeyError(
                "reading_friends.phone_key is not set: it is needed to store or read readers' "
                "phone numbers (make one with `cuppa-bot new-key`)"
            )
        return self._fernet

    def seal(self, number: str) -> str:
        return self._require().encrypt(number.encode()).decode()

    def reveal(self, text: str) -> str:
        """The text with each `sealed_mark` replaced by the number, as people write it."""

        def number(match: re.Match[str]) -> str:
            try:
                return readable(self.open(match[1]))
            except PhoneKeyError:
                return "(please ask library staff)"

        return _SEALED.sub(number, text)

    def open(self, sealed: str) -> str:
        try:
            return self._require().decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise PhoneKeyError(
                "reading_friends.phone_key does not match the key the numbers were stored with"
            ) from None
