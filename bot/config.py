"""Configuration: a TOML file, overridden key by key from `CUPPA_<SECTION>_<KEY>` variables.

Every section is a frozen dataclass so the rest of the code gets typed values, and every mistake
(unreadable file, unknown key, wrong type) becomes one `ConfigError` line rather than a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "CUPPA_"
DEFAULT_PATH = Path("config.toml")


class ConfigError(Exception):
    """A configuration problem, worded for the person running the bot."""


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str = ""


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite+aiosqlite:///cuppa.db"
    echo: bool = False


@dataclass(frozen=True)
class ServiceConfig:
    name: str = "Norfolk Libraries"
    phone: str = "0344 800 8020"
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class SessionsConfig:
    page_size: int = 5
    horizon_days: int = 28


@dataclass(frozen=True)
class RemindersConfig:
    offsets_minutes: tuple[int, ...] = (1440, 60)


@dataclass(frozen=True)
class ReadingFriendsConfig:
    # A Fernet key (`cuppa-bot new-key` makes one) encrypting readers' phone numbers.
    phone_key: str = ""
    call_minutes: int = 30
    booking_days: int = 14
    offer_hours: float = 12.0
    match_every_minutes: float = 5.0
    checks_valid_days: int = 1095
    unmatched_alert_hours: float = 24.0


@dataclass(frozen=True)
class StaffConfig:
    telegram_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class DeliveryConfig:
    messages_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    poll_seconds: float = 1.0
    max_attempts: int = 5
    batch_size: int = 1000


@dataclass(frozen=True)
class RetentionConfig:
    call_notes_days: int = 365
    delivery_days: int = 90
    past_bookings_days: int = 730


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    sessions: SessionsConfig = field(default_factory=SessionsConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    reading_friends: ReadingFriendsConfig = field(default_factory=ReadingFriendsConfig)
    staff: StaffConfig = field(default_factory=StaffConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.service.timezone)

    def replace(self, **sections: object) -> Config:
        """Return a copy with whole sections swapped (tests and the chat command use this)."""
        return dataclasses.replace(self, **sections)


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config)}


def _coerce(value: object, kind: object, where: str) -> object:
    """Check a TOML value against the field's type (ints are accepted for floats)."""
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    elif typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        if isinstance(value, list):
            return tuple(_coerce(v, item, where) for v in value)
    raise ConfigError(f"{where} should be {_describe(kind)}, not {value!r}")


def _from_env(text: str, kind: object, where: str) -> object:
    """Parse an environment variable's text as the field's type."""
    text = text.strip()
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            return tuple(_from_env(part, item, where) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{where} should be {_describe(kind)}, not {text!r}") from None
    return text


def _describe(kind: object) -> str:
    if typing.get_origin(kind) is tuple:
        return f"a list of {_describe(typing.get_args(kind)[0])}"
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    return names.get(kind, str(kind))  # type: ignore[call-overload]


def _read_file(path: Path | None) -> dict[str, object]:
    if path is None:
        if not DEFAULT_PATH.exists():
            return {}
        path = DEFAULT_PATH
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the configuration file {path} is not valid TOML: {exc}") from None


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from defaults, then the file, then the environment."""
    env = os.environ if env is None else env
    raw = _read_file(path)
    sections = _sections()
    values: dict[str, dict[str, object]] = {name: {} for name in sections}
    for section, content in raw.items():
        if section not in sections:
            raise ConfigError(f"unknown configuration section [{section}]")
        if not isinstance(content, dict):
            raise ConfigError(f"[{section}] should be a table of keys")
        hints = typing.get_type_hints(sections[section])
        for key, value in content.items():
            if key not in hints:
                raise ConfigError(f"unknown configuration key {section}.{key}")
            values[section][key] = _coerce(value, hints[key], f"{section}.{key}")
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        section, key = _split_env_name(name[len(ENV_PREFIX) :], sections)
        hints = typing.get_type_hints(sections[section])
        values[section][key] = _from_env(text, hints[key], name)
    config = Config(**{name: kind(**values[name]) for name, kind in sections.items()})
    _validate(config)
    return config


def _split_env_name(rest: str, sections: dict[str, type]) -> tuple[str, str]:
    lowered = rest.lower()
    for section, kind in sections.items():
        if lowered.startswith(section + "_"):
            key = lowered[len(section) + 1 :]
            if key in {f.name for f in dataclasses.fields(kind)}:
                return section, key
    raise ConfigError(f"unknown configuration variable {ENV_PREFIX}{rest}")


def _validate(config: Config) -> None:
    try:
        ZoneInfo(config.service.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"service.timezone {config.service.timezone!r} is not a time zone"
        ) from None
    if not config.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "database.url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    if config.sessions.page_size < 1 or config.delivery.messages_per_second <= 0:
        raise ConfigError("sessions.page_size and delivery.messages_per_second must be positive")
    if config.delivery.per_chat_per_second <= 0:
        raise ConfigError("delivery.per_chat_per_second must be positive")
    if min(dataclasses.astuple(config.retention)) < 1:
        raise ConfigError("every retention period must be at least one day")
    if any(minutes <= 0 for minutes in config.reminders.offsets_minutes):
        raise ConfigError("reminders.offsets_minutes must be positive numbers of minutes")
