"""Pure logic, tested directly: configuration, local time, distances, button data, pacing,
wording and calendar files. No database and no Telegram."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot import actions
from bot.actions import Browse
from bot.clock import at_local, day_range, format_when, local_midnight
from bot.config import Config, ConfigError, load_config
from bot.delivery.ratelimit import RateLimiter
from bot.services.calendar import booking_calendar
from bot.services.fresh import Fresh
from bot.services.places import fold, haversine_miles
from bot.services.views import BookingView, LibraryView, SessionView
from bot.wording import NOTE_LIMIT, booking_text, duration, places_line, session_text

LONDON = ZoneInfo("Europe/London")


# --- configuration ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_stray_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_config(None) reads ./config.toml if present: run where there is none."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "cuppa.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_with_no_file_and_no_environment() -> None:
    config = load_config(None, {})
    assert config == Config()
    assert config.telegram.token == ""
    assert config.telegram.base_url == "https://api.telegram.org/bot"
    assert config.database.url == "sqlite+aiosqlite:///cuppa.db"
    assert config.database.echo is False
    assert config.service.timezone == "Europe/London"
    assert config.tz == LONDON
    assert config.sessions.page_size == 5
    assert config.staff.telegram_ids == ()
    assert config.delivery.messages_per_second == 30.0
    assert config.delivery.per_chat_per_second == 1.0


def test_default_config_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    write(tmp_path, '[service]\nname = "Here"\n', name="config.toml")
    assert load_config(None, {}).service.name == "Here"


def test_a_toml_file_sets_typed_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[telegram]
token = "123:abc"
webhook_port = 9000

[database]
url = "postgresql+asyncpg://u@h/db"
echo = true

[service]
name = "Test Libraries"
timezone = "Europe/Paris"

[staff]
telegram_ids = [5, 6]

[delivery]
messages_per_second = 20      # an int is fine for a float
per_chat_per_second = 0.5
""",
    )
    config = load_config(path, {})
    assert config.telegram.token == "123:abc"
    assert config.telegram.webhook_port == 9000
    assert config.database.url == "postgresql+asyncpg://u@h/db"
    assert config.database.echo is True
    assert config.service.name == "Test Libraries"
    assert config.tz == ZoneInfo("Europe/Paris")
    assert config.staff.telegram_ids == (5, 6)
    assert config.delivery.messages_per_second == 20.0
    assert isinstance(config.delivery.messages_per_second, float)
    assert config.delivery.per_chat_per_second == 0.5
    # Untouched keys keep their defaults.
    assert config.sessions.page_size == 5
    assert config.telegram.base_url == "https://api.telegram.org/bot"


def test_environment_variables_override_defaults() -> None:
    config = load_config(
        None,
        {
            "CUPPA_TELEGRAM_TOKEN": "42:xyz",
            "CUPPA_DATABASE_URL": "sqlite+aiosqlite:///other.db",
            "CUPPA_TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "CUPPA_STAFF_TELEGRAM_IDS": "1,2",
            "CUPPA_DELIVERY_MESSAGES_PER_SECOND": "12.5",
            "CUPPA_DATABASE_ECHO": "yes",
            "CUPPA_SESSIONS_PAGE_SIZE": "8",
            "PATH": "/usr/bin",  # not ours: ignored
            "cuppa_telegram_token": "lower case is not ours either",
        },
    )
    assert config.telegram.token == "42:xyz"
    assert config.database.url == "sqlite+aiosqlite:///other.db"
    assert config.telegram.base_url == "http://127.0.0.1:8081/bot"
    assert config.staff.telegram_ids == (1, 2)
    assert config.delivery.messages_per_second == 12.5
    assert config.database.echo is True
    assert config.sessions.page_size == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False), ("", False)],
)
def test_environment_booleans(text: str, expected: bool) -> None:
    assert load_config(None, {"CUPPA_DATABASE_ECHO": text}).database.echo is expected


@pytest.mark.parametrize(("text", "expected"), [("", ()), (" 7 ", (7,)), ("1, 2,,3,", (1, 2, 3))])
def test_environment_lists(text: str, expected: tuple[int, ...]) -> None:
    assert load_config(None, {"CUPPA_STAFF_TELEGRAM_IDS": text}).staff.telegram_ids == expected


def test_environment_beats_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[telegram]\ntoken = "from-file"\n[staff]\ntelegram_ids = [9]\n'
        '[service]\nname = "File name"\n',
    )
    config = load_config(
        path, {"CUPPA_TELEGRAM_TOKEN": "from-env", "CUPPA_STAFF_TELEGRAM_IDS": "3,4"}
    )
    assert config.telegram.token == "from-env"
    assert config.staff.telegram_ids == (3, 4)
    assert config.service.name == "File name"  # not overridden: the file's value stays


def config_error(path: Path | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {})
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_unknown_section(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, "[telegarm]\ntoken = 'x'\n"))
    assert message == "unknown configuration section [telegarm]"


def test_section_that_is_not_a_table(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, "telegram = 'x'\n"))
    assert message == "[telegram] should be a table of keys"


def test_unknown_key(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, "[telegram]\ntokn = 'x'\n"))
    assert message == "unknown configuration key telegram.tokn"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "[sessions]\npage_size = 'five'",
            "sessions.page_size should be a whole number, not 'five'",
        ),
        ("[sessions]\npage_size = 2.5", "sessions.page_size should be a whole number, not 2.5"),
        ("[sessions]\npage_size = true", "sessions.page_size should be a whole number, not True"),
        ("[database]\necho = 'yes'", "database.echo should be true or false, not 'yes'"),
        ("[telegram]\ntoken = 123", "telegram.token should be text, not 123"),
        ("[delivery]\npoll_seconds = 'x'", "delivery.poll_seconds should be a number, not 'x'"),
        ("[staff]\ntelegram_ids = 5", "staff.telegram_ids should be a list of a whole number"),
        ("[staff]\ntelegram_ids = ['a']", "staff.telegram_ids should be a whole number, not 'a'"),
    ],
)
def test_wrong_type_in_the_file(tmp_path: Path, toml: str, expected: str) -> None:
    assert config_error(write(tmp_path, toml + "\n")).startswith(expected)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("CUPPA_SESSIONS_PAGE_SIZE", "lots", "CUPPA_SESSIONS_PAGE_SIZE should be a whole number"),
        ("CUPPA_DATABASE_ECHO", "maybe", "CUPPA_DATABASE_ECHO should be true or false"),
        ("CUPPA_DELIVERY_POLL_SECONDS", "soon", "CUPPA_DELIVERY_POLL_SECONDS should be a number"),
        ("CUPPA_STAFF_TELEGRAM_IDS", "1,x", "CUPPA_STAFF_TELEGRAM_IDS should be a whole number"),
    ],
)
def test_wrong_type_in_the_environment(name: str, text: str, expected: str) -> None:
    assert config_error(env={name: text}).startswith(expected)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    message = config_error(missing)
    assert message == f"cannot read the configuration file {missing}: No such file or directory"


def test_a_directory_is_not_a_configuration_file(tmp_path: Path) -> None:
    message = config_error(tmp_path)
    assert message.startswith(f"cannot read the configuration file {tmp_path}: ")


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    """A path no one can open, even root: its parent is a file."""
    path = write(tmp_path, "[telegram]\n") / "config.toml"
    assert "Not a directory" in config_error(path)


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[telegram\ntoken = \n")
    message = config_error(path)
    assert message.startswith(f"the configuration file {path} is not valid TOML: ")
    assert "line 1" in message


@pytest.mark.parametrize(
    "name",
    ["CUPPA_TELEGRAM_TOKN", "CUPPA_NOSUCH_THING", "CUPPA_", "CUPPA_TELEGRAM", "CUPPA_TOKEN"],
)
def test_unknown_cuppa_variable(name: str) -> None:
    rest = name.removeprefix("CUPPA_")
    assert config_error(env={name: "x"}) == f"unknown configuration variable CUPPA_{rest}"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "GMT+25"])
def test_bad_timezone(zone: str) -> None:
    message = config_error(env={"CUPPA_SERVICE_TIMEZONE": zone})
    assert message == f"service.timezone {zone!r} is not a time zone"


def test_bad_timezone_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[service]\ntimezone = "Norfolk/Norwich"\n')
    assert config_error(path) == "service.timezone 'Norfolk/Norwich' is not a time zone"


@pytest.mark.parametrize(
    "url", ["sqlite:///cuppa.db", "postgresql://u@h/db", "mysql+aiomysql://x", "cuppa.db", ""]
)
def test_bad_database_url_scheme(url: str) -> None:
    message = config_error(env={"CUPPA_DATABASE_URL": url})
    assert message == ("database.url must start with sqlite+aiosqlite:// or postgresql+asyncpg://")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("CUPPA_SESSIONS_PAGE_SIZE", "0"),
        ("CUPPA_DELIVERY_MESSAGES_PER_SECOND", "0"),
        ("CUPPA_DELIVERY_PER_CHAT_PER_SECOND", "-1"),
    ],
)
def test_rates_and_page_size_must_be_positive(name: str, text: str) -> None:
    assert "must be positive" in config_error(env={name: text})


# --- local time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 12, 3, 10, 30, tzinfo=UTC), "Tue 3 Dec, 10:30am"),
        (datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "Wed 25 Nov, 2pm"),
        (datetime(2026, 11, 25, 0, 0, tzinfo=UTC), "Wed 25 Nov, 12am"),
        (datetime(2026, 11, 25, 12, 0, tzinfo=UTC), "Wed 25 Nov, 12pm"),
        (datetime(2026, 11, 25, 12, 5, tzinfo=UTC), "Wed 25 Nov, 12:05pm"),
        (datetime(2026, 11, 25, 23, 59, tzinfo=UTC), "Wed 25 Nov, 11:59pm"),
        # Summer: UTC 9am is 10am in London; 23:30 UTC is already the next day.
        (datetime(2026, 7, 1, 9, 0, tzinfo=UTC), "Wed 1 Jul, 10am"),
        (datetime(2026, 6, 28, 23, 30, tzinfo=UTC), "Mon 29 Jun, 12:30am"),
    ],
)
def test_format_when(moment: datetime, expected: str) -> None:
    assert format_when(moment, LONDON) == expected


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2026, 3, 28), 10),  # Saturday: still GMT
        (date(2026, 3, 29), 9),  # Sunday: the clocks went forward at 1am
        (date(2026, 10, 24), 9),  # Saturday: still BST
        (date(2026, 10, 25), 10),  # Sunday: the clocks went back at 2am
    ],
)
def test_the_same_wall_time_either_side_of_a_clock_change(day: date, utc_hour: int) -> None:
    moment = at_local(day, time(10, 30), LONDON)
    assert moment == datetime(day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC)
    assert moment.tzinfo == UTC
    assert format_when(moment, LONDON).endswith(", 10:30am")


def test_local_midnight_across_the_clock_change() -> None:
    assert local_midnight(date(2026, 3, 29), LONDON) == datetime(2026, 3, 29, 0, tzinfo=UTC)
    assert local_midnight(date(2026, 3, 30), LONDON) == datetime(2026, 3, 29, 23, tzinfo=UTC)
    assert local_midnight(date(2026, 10, 25), LONDON) == datetime(2026, 10, 24, 23, tzinfo=UTC)
    assert local_midnight(date(2026, 10, 26), LONDON) == datetime(2026, 10, 26, 0, tzinfo=UTC)


# Tuesday 24 November 2026, 9am GMT.
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_day_range_today() -> None:
    assert day_range("today", TUESDAY, LONDON, 28) == (TUESDAY, datetime(2026, 11, 25, tzinfo=UTC))


def test_day_range_week_ends_at_the_end_of_sunday() -> None:
    assert day_range("week", TUESDAY, LONDON, 28) == (TUESDAY, datetime(2026, 11, 30, tzinfo=UTC))


def test_day_range_next_week_is_monday_to_monday() -> None:
    assert day_range("next", TUESDAY, LONDON, 28) == (
        datetime(2026, 11, 30, tzinfo=UTC),
        datetime(2026, 12, 7, tzinfo=UTC),
    )


def test_day_range_any_runs_to_the_horizon() -> None:
    start, end = day_range("any", TUESDAY, LONDON, 28)
    assert start == TUESDAY
    assert end == datetime(2026, 12, 23, tzinfo=UTC)  # the end of the 28th day after today


def test_day_range_on_a_sunday_and_on_a_monday() -> None:
    sunday = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    assert day_range("week", sunday, LONDON, 28)[1] == datetime(2026, 11, 30, tzinfo=UTC)
    assert day_range("next", sunday, LONDON, 28)[0] == datetime(2026, 11, 30, tzinfo=UTC)
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert day_range("week", monday, LONDON, 28)[1] == datetime(2026, 12, 7, tzinfo=UTC)
    assert day_range("next", monday, LONDON, 28) == (
        datetime(2026, 12, 7, tzinfo=UTC),
        datetime(2026, 12, 14, tzinfo=UTC),
    )


def test_day_range_in_the_week_the_clocks_go_forward() -> None:
    thursday = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)  # GMT; BST from Sunday 29th
    assert day_range("today", thursday, LONDON, 28) == (
        thursday,
        datetime(2026, 3, 27, tzinfo=UTC),
    )
    # Midnight at the end of Sunday is in BST: 23:00 UTC.
    assert day_range("week", thursday, LONDON, 28) == (
        thursday,
        datetime(2026, 3, 29, 23, tzinfo=UTC),
    )
    assert day_range("next", thursday, LONDON, 28) == (
        datetime(2026, 3, 29, 23, tzinfo=UTC),
        datetime(2026, 4, 5, 23, tzinfo=UTC),
    )


def test_day_range_in_the_week_the_clocks_go_back() -> None:
    wednesday = datetime(2026, 10, 21, 10, 0, tzinfo=UTC)  # BST; GMT from Sunday 25th
    assert day_range("today", wednesday, LONDON, 28)[1] == datetime(2026, 10, 21, 23, tzinfo=UTC)
    assert day_range("week", wednesday, LONDON, 28)[1] == datetime(2026, 10, 26, tzinfo=UTC)
    assert day_range("next", wednesday, LONDON, 28) == (
        datetime(2026, 10, 26, tzinfo=UTC),
        datetime(2026, 11, 2, tzinfo=UTC),
    )


def test_day_range_uses_the_local_date_not_the_utc_date() -> None:
    # 23:30 UTC on Sunday 28 June is 00:30 on Monday 29 June in London.
    late = datetime(2026, 6, 28, 23, 30, tzinfo=UTC)
    assert day_range("today", late, LONDON, 28) == (late, datetime(2026, 6, 29, 23, tzinfo=UTC))
    assert day_range("week", late, LONDON, 28)[1] == datetime(2026, 7, 5, 23, tzinfo=UTC)


# --- places -------------------------------------------------------------------------------------

NORWICH = (52.6286, 1.2916)
KINGS_LYNN = (52.7543, 0.3976)


def test_haversine_norwich_to_kings_lynn() -> None:
    assert haversine_miles(*NORWICH, *KINGS_LYNN) == pytest.approx(38.5, abs=0.5)


def test_haversine_zero_and_symmetric() -> None:
    assert haversine_miles(*NORWICH, *NORWICH) == 0
    assert haversine_miles(*NORWICH, *KINGS_LYNN) == pytest.approx(
        haversine_miles(*KINGS_LYNN, *NORWICH)
    )


def test_haversine_one_degree_of_latitude_is_about_69_miles() -> None:
    assert haversine_miles(52.0, 1.0, 53.0, 1.0) == pytest.approx(69.09, abs=0.05)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("King’s Lynn", "kings lynn"),
        ("King's Lynn", "kings lynn"),
        ("kings lynn", "kings lynn"),
        ("  KINGS   LYNN  ", "kings lynn"),
        ("Wells-next-the-Sea", "wellsnextthesea"),
        ("Café Crème", "cafe creme"),
        ("Ångström", "angstrom"),
        ("Dereham.", "dereham"),
        ("\tNorwich\n", "norwich"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_fold(typed: str, expected: str) -> None:
    assert fold(typed) == expected


def test_fold_makes_the_two_spellings_match() -> None:
    assert fold("King’s Lynn") == fold("kings lynn") == fold("KINGS LYNN")


# --- button data --------------------------------------------------------------------------------

BIG = 999_999_999  # nine digits
FAR_NEAR = actions.near_place(-89.99999, -179.99999)
NEAR_PLACES = [
    actions.near_place(52.6286, 1.2916),
    actions.near_place(-33.8688, -151.2093),
    actions.near_place(-0.00001, -0.00001),
    FAR_NEAR,
    actions.near_place(90, 180),
]


def every_built_string() -> list[str]:
    built = [
        actions.MENU,
        actions.MY_BOOKINGS,
        actions.HELP,
        actions.PRIVACY,
        actions.SETTINGS,
        actions.CONSENT_NO,
        actions.ASK_HOME,
        actions.SKIP_HOME,
        actions.TYPE_TOWN,
        actions.SHARE_LOCATION,
        actions.ASK_PREFERENCE,
        actions.consent_yes(),
        actions.consent_yes(BIG),
        actions.area(BIG),
        actions.home(BIG),
        *(actions.preference(code) for code in ("i", "o", "b", "in_person")),
        actions.book(BIG),
        actions.cancel_booking(BIG),
        actions.confirm_cancel(BIG),
        actions.calendar(BIG),
    ]
    places = ["_", "a", "h", "o", f"l{BIG}", f"c{BIG}", *NEAR_PLACES]
    for place, day, activity in itertools.product(
        places, ["_", *actions.DAYS], ["_", "0", str(BIG)]
    ):
        step = Browse(activity, place, day, 9999)
        built += [step.data(), step.show(BIG), step.near_me()]
    return built


def test_every_builder_fits_in_64_bytes() -> None:
    built = every_built_string()
    longest = max(built, key=lambda data: len(data.encode()))
    assert len(longest.encode()) <= actions.MAX_BYTES, longest


def test_near_place_rounds_to_four_places() -> None:
    assert actions.near_place(52.628612345, 1.29) == "n52.6286,1.2900"
    assert FAR_NEAR == "n-90.0000,-180.0000"


@pytest.mark.parametrize("place", ["_", "a", "h", "o", f"l{BIG}", f"c{BIG}", "l1", *NEAR_PLACES])
@pytest.mark.parametrize("day", ["_", *actions.DAYS])
def test_browse_round_trips(place: str, day: str) -> None:
    for activity in ("_", "0", "7", str(BIG)):
        for page in (0, 1, 9999):
            step = Browse(activity, place, day, page)
            assert actions.parse_browse(step.data().removeprefix("ss:")) == step
            head, _, rest = step.show(BIG).removeprefix("sv:").partition(":")
            assert head == str(BIG)
            assert actions.parse_browse(rest) == step


def test_browse_next_question_and_replace() -> None:
    step = Browse()
    assert step.data() == "ss:_:_:_:0"
    assert step.next_question == "activity"
    step = step.replace(activity="3")
    assert step.next_question == "place"
    step = step.replace(place="o", day="w")
    assert step.next_question is None
    assert actions.parse_browse(step.data().removeprefix("ss:")) == Browse("3", "o", "w", 0)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "_:_:_",
        "_:_:_:0:0",
        "_:_:_:-1",
        "_:_:_:10000",
        "_:_:_:x",
        "-1:_:_:0",
        "1234567890:_:_:0",
        "1:l1234567890:_:0",
        "1:l:_:0",
        "1:l-1:_:0",
        "1:x:_:0",
        "1:hh:_:0",
        "1:_:x:0",
        "1:_:tw:0",
        "1:n52,1:_:0",
        "1:n152.6286,1.2916:_:0",
        "1:n52.6286,1.2916,3:_:0",
        "1:n52.6286;1.2916:_:0",
        "1:n52.6286,1.2916:_:0\n",
        " 1:_:_:0",
        "1:_:_:0 ",
        "1:o:a:0; DROP TABLE bookings;--",
        "1:o' OR '1'='1:a:0",
        "<script>:_:_:0",
        "1:o:a:0:extra",
        "1::a:0",
        "1:o:a:",
        "1:o:a:1e3",
        "1:o:a:0x1",
        "1:o:a:+1",
    ],
)
def test_parse_browse_rejects_garbage(garbage: str) -> None:
    assert actions.parse_browse(garbage) is None


def test_parse_browse_accepts_fewer_decimals_for_a_near_place() -> None:
    assert actions.parse_browse("1:n52.6,1.2:_:0") == Browse("1", "n52.6,1.2", "_", 0)


@pytest.mark.parametrize(
    "unicode_digits",
    ["١٢:_:_:0", "1:l١٢:_:0", "1:_:_:١", "１２:o:a:0", "𝟏:o:a:0", "1:n٥٢.٦,١.٢:a:0"],
)
def test_parse_browse_rejects_unicode_digits(unicode_digits: str) -> None:
    assert actions.parse_browse(unicode_digits) is None


@pytest.mark.parametrize("prefix", ["bk", "cx", "cy", "ic"])
@pytest.mark.parametrize("number", [0, 1, 42, BIG])
def test_parse_id_round_trips(prefix: str, number: int) -> None:
    data = f"{prefix}:{number}"
    assert actions.parse_id(data, prefix) == number


def test_parse_id_refuses_ids_beyond_a_32_bit_column() -> None:
    assert actions.parse_id("bk:1234567890", "bk") is None


def test_parse_id_round_trips_the_builders() -> None:
    assert actions.parse_id(actions.book(BIG), "bk") == BIG
    assert actions.parse_id(actions.cancel_booking(BIG), "cx") == BIG
    assert actions.parse_id(actions.confirm_cancel(BIG), "cy") == BIG
    assert actions.parse_id(actions.calendar(BIG), "ic") == BIG


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "bk",
        "bk:",
        "bk:-1",
        "bk:+1",
        "bk:1.0",
        "bk:1e3",
        "bk:0x10",
        "bk: 1",
        "bk:1 ",
        "bk:1\n",
        "bk:1:2",
        "bk::1",
        "bk:1_000",
        "bk:" + "9" * 13,
        "bk:" + "9" * 400,
        "bk:1; DROP TABLE bookings;--",
        "bk:1 OR 1=1",
        "bk:${jndi:ldap://x}",
        "cx:1",  # right shape, wrong prefix
        "BK:1",
        " bk:1",
        "bkk:1",
    ],
)
def test_parse_id_rejects_garbage(garbage: str) -> None:
    assert actions.parse_id(garbage, "bk") is None


@pytest.mark.parametrize("digits", ["١٢", "１２", "۱۲"])
def test_parse_id_rejects_unicode_digits(digits: str) -> None:
    assert actions.parse_id(f"bk:{digits}", "bk") is None


@pytest.mark.parametrize("digits", ["²", "1²", "①"])
def test_parse_id_does_not_crash_on_superscript_digits(digits: str) -> None:
    assert actions.parse_id(f"bk:{digits}", "bk") is None


@pytest.mark.parametrize("place", NEAR_PLACES)
def test_parse_near_round_trips(place: str) -> None:
    parsed = actions.parse_near(place)
    assert parsed is not None
    assert actions.near_place(*parsed) == place


def test_parse_near_values() -> None:
    assert actions.parse_near(actions.near_place(52.6286, 1.2916)) == (52.6286, 1.2916)
    assert actions.parse_near(actions.near_place(-33.8688, -151.2093)) == (-33.8688, -151.2093)


@pytest.mark.parametrize(
    "garbage", ["", "a", "h", "o", "l12", "x52.1,1.2", "n90.0001,0.0", "n0.0,180.5", "n-91.0,0.0"]
)
def test_parse_near_rejects_out_of_range_and_other_places(garbage: str) -> None:
    assert actions.parse_near(garbage) is None


@pytest.mark.parametrize("special", ["nnan,nan", "ninf,0", "n0,-inf"])
def test_parse_near_rejects_nan_and_infinity(special: str) -> None:
    assert actions.parse_near(special) is None


@pytest.mark.parametrize("garbage", ["n", "nabc", "n52.1", "n1,2,3", "n1;2", "n52.1,"])
def test_parse_near_returns_none_for_malformed_text(garbage: str) -> None:
    assert actions.parse_near(garbage) is None


@pytest.mark.parametrize("lenient", ["n١٢,٣", "n 1 , 2", "n1e1,2", "n1_0,2"])
def test_parse_near_is_strict(lenient: str) -> None:
    assert actions.parse_near(lenient) is None


@pytest.mark.parametrize("day", ["_", *actions.DAYS])
@pytest.mark.parametrize("activity", ["_", "0", "7", str(BIG)])
def test_parse_near_me_round_trips(activity: str, day: str) -> None:
    step = Browse(activity, "o", day, 12)
    assert actions.parse_near_me(step.near_me()) == Browse(activity, actions.UNSET, day, 0)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "nr",
        "nr:",
        "nr:1",
        "nr:1:",
        "nr:1:x",
        "nr:-1:w",
        "nr:1:w:0",
        "nr:1:w:extra",
        "nr:1:_:0:0",
        "nr:1234567890:w",
        "ss:1:w",
        "NR:1:w",
        "nr:1:w; DROP TABLE people;--",
        "nr:1:w\n",
    ],
)
def test_parse_near_me_rejects_garbage(garbage: str) -> None:
    assert actions.parse_near_me(garbage) is None


def test_parse_near_me_rejects_unicode_digits() -> None:
    assert actions.parse_near_me("nr:١٢:w") is None


# --- pacing -------------------------------------------------------------------------------------


def simulate(per_second: float, per_chat: float, chats: int, seconds: float = 10.0):
    """Send as fast as the limiter allows, always to the chat that may go soonest."""
    limiter = RateLimiter(per_second, per_chat)
    now = 0.0
    sends: list[tuple[float, int]] = []
    while True:
        chat = min(range(chats), key=limiter.chat_ready_at)
        now = limiter.reserve(chat, now)
        if now >= seconds:
            return sends
        sends.append((now, chat))


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize("chats", [1, 5, 40, 1000])
def test_rate_limiter_keeps_to_both_limits(chats: int) -> None:
    sends = simulate(30, 1, chats)
    assert max_in_any_window([t for t, _ in sends]) <= 30
    for chat in range(chats):
        mine = [t for t, c in sends if c == chat]
        assert max_in_any_window(mine) <= 1
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(mine))
    achievable = min(30.0, chats * 1.0)
    assert len(sends) / 10 >= 0.97 * achievable


def test_a_late_worker_does_not_burst() -> None:
    limiter = RateLimiter(30, 1)
    assert limiter.reserve(1, 5.0) == 5.0
    # Slots are spaced from the last slot, and never before now: no catching up in a burst.
    assert limiter.reserve(2, 5.0) == pytest.approx(5.0 + 1.01 / 30)
    assert limiter.reserve(3, 9.0) == 9.0
    assert limiter.reserve(4, 9.0) == pytest.approx(9.0 + 1.01 / 30)
    assert limiter.chat_ready_at(1) == pytest.approx(5.0 + 1.01)


def test_pause_until_delays_the_next_send() -> None:
    limiter = RateLimiter(30, 1)
    assert limiter.reserve(1, 0.0) == 0.0
    limiter.pause_until(5.0)
    assert limiter.reserve(2, 0.1) == 5.0
    limiter.pause_until(2.0)  # an earlier pause never brings sends forward
    assert limiter.paused_until == 5.0
    assert limiter.reserve(3, 0.2) == pytest.approx(5.0 + 1.01 / 30)


def test_pause_until_in_a_simulation() -> None:
    limiter = RateLimiter(30, 1)
    sends = []
    now = 0.0
    for chat in range(100):
        now = limiter.reserve(chat, now)
        sends.append(now)
        if chat == 9:
            limiter.pause_until(now + 3.0)
    assert sends[10] - sends[9] == pytest.approx(3.0)
    assert max_in_any_window(sends) <= 30


def test_rate_limiter_forgets_old_chats() -> None:
    limiter = RateLimiter(1000, 1)
    for chat in range(10_001):
        slot = limiter.reserve(chat, chat / 1000)
    # Past 10,000 chats, those already free again are dropped (only the last ~1.01 s remain).
    assert len(limiter._next_chat) <= 1_100
    assert limiter.chat_ready_at(0) == 0.0
    assert limiter.chat_ready_at(10_000) == pytest.approx(slot + 1.01)


# --- wording ------------------------------------------------------------------------------------

DEREHAM = LibraryView(
    id=3,
    name="Dereham Library",
    town="Dereham",
    area="Breckland",
    address="59 High Street",
    postcode="NR19 1DZ",
    phone="01362 693184",
    accessibility="Step-free access. Hearing loop.",
    latitude=52.6815,
    longitude=0.9392,
)
WEDNESDAY_10_30 = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)


def a_session(**changes: object) -> SessionView:
    values: dict[str, object] = dict(
        id=17,
        activity="Just a Cuppa",
        activity_id=1,
        library=DEREHAM,
        online=False,
        starts_at=WEDNESDAY_10_30,
        duration_minutes=90,
        capacity=12,
        booked=3,
        waiting=0,
        notes="",
        status="scheduled",
    )
    values.update(changes)
    return SessionView(**values)  # type: ignore[arg-type]


def online_session(**changes: object) -> SessionView:
    return a_session(library=None, online=True, activity="Colour Me Calm", **changes)


def a_booking(session: SessionView, **changes: object) -> BookingView:
    values: dict[str, object] = dict(
        id=55, status="booked", session=session, waiting_position=None, join_link=None
    )
    values.update(changes)
    return BookingView(**values)  # type: ignore[arg-type]


def test_session_text_in_person() -> None:
    text = session_text(a_session(), LONDON)
    assert text.splitlines() == [
        "Just a Cuppa",
        "Where: Dereham Library, 59 High Street, Dereham NR19 1DZ",
        "When: Wed 25 Nov, 10:30am (1h 30min)",
        "Places: 9 places left",
        "Access: Step-free access. Hearing loop",
    ]


def test_session_text_online() -> None:
    text = session_text(online_session(), LONDON)
    assert "Where: Online" in text.splitlines()
    assert "Dereham" not in text
    assert "Access" not in text  # no library notes for an online session


def test_session_text_online_session_ignores_a_library_it_still_has() -> None:
    text = session_text(a_session(online=True, notes="Zoom link sent on booking"), LONDON)
    assert "Where: Online" in text
    assert "Access: Zoom link sent on booking" in text
    assert "Hearing loop" not in text


def test_session_text_distance_and_cancelled() -> None:
    text = session_text(a_session(distance_miles=3.456, status="cancelled"), LONDON)
    assert "Where: Dereham Library, 59 High Street, Dereham NR19 1DZ (3.5 miles away)" in text
    assert "This session has been cancelled." in text


def test_session_text_combines_session_and_library_notes() -> None:
    text = session_text(a_session(notes="Tea and biscuits provided."), LONDON)
    assert text.endswith("Access: Tea and biscuits provided. Step-free access. Hearing loop")


def test_accessibility_notes_are_truncated_to_300_characters() -> None:
    long_notes = "Wheelchair access via the side door " * 20
    text = session_text(a_session(notes=long_notes), LONDON)
    access = next(line for line in text.splitlines() if line.startswith("Access: "))
    assert len(access.removeprefix("Access: ")) == NOTE_LIMIT == 300
    assert long_notes.startswith(access.removeprefix("Access: "))


@pytest.mark.parametrize(
    ("capacity", "booked", "waiting", "expected"),
    [
        (12, 3, 0, "9 places left"),
        (12, 11, 0, "1 place left"),
        (12, 12, 0, "Full: you can join the waiting list"),
        (12, 12, 4, "Full, 4 waiting: you can join the waiting list"),
        (12, 15, 0, "Full: you can join the waiting list"),  # over-booked by staff
    ],
)
def test_places_line(capacity: int, booked: int, waiting: int, expected: str) -> None:
    session = a_session(capacity=capacity, booked=booked, waiting=waiting)
    assert places_line(session) == expected
    assert f"Places: {expected}" in session_text(session, LONDON)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (30, "30 minutes"),
        (45, "45 minutes"),
        (60, "1 hour"),
        (90, "1h 30min"),
        (120, "2 hours"),
        (150, "2h 30min"),
    ],
)
def test_duration(minutes: int, expected: str) -> None:
    assert duration(minutes) == expected


def test_booking_text_booked_in_person_has_no_join_link() -> None:
    text = booking_text(a_booking(a_session()), LONDON)
    assert text.splitlines() == [
        "Just a Cuppa: Wed 25 Nov, 10:30am",
        "Where: Dereham Library, 59 High Street, Dereham NR19 1DZ",
        "You have a place.",
    ]
    assert "Join online" not in text


def test_booking_text_with_a_join_link() -> None:
    link = "https://meet.example.org/cuppa-17"
    text = booking_text(a_booking(online_session(), join_link=link), LONDON)
    assert "Where: Online" in text
    assert text.splitlines()[-1] == f"Join online: {link}"


def test_booking_text_online_without_a_link_shows_none() -> None:
    text = booking_text(a_booking(online_session(), join_link=None), LONDON)
    assert "Join online" not in text
    assert "http" not in text


def test_booking_text_waiting_list() -> None:
    booking = a_booking(a_session(booked=12), status="waiting", waiting_position=2)
    assert "You are number 2 on the waiting list." in booking_text(booking, LONDON)


# --- calendar files -----------------------------------------------------------------------------

STAMP = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def parse_event(data: bytes):  # type: ignore[no-untyped-def]
    calendar = Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    [event] = calendar.walk("VEVENT")
    return event


def test_calendar_for_an_in_person_booking() -> None:
    session = a_session()
    event = parse_event(booking_calendar(a_booking(session), "Norfolk Libraries", STAMP))
    assert str(event["SUMMARY"]) == "Just a Cuppa (Norfolk Libraries)"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == session.starts_at == datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
    assert end == session.ends_at == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)
    assert str(event["LOCATION"]) == "Dereham Library, 59 High Street, Dereham NR19 1DZ"
    description = str(event["DESCRIPTION"])
    assert "Library phone: 01362 693184" in description
    assert "Join online" not in description
    assert "URL" not in event
    assert str(event["UID"]) == "booking-55-session-17@cuppa"
    [alarm] = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == timedelta(hours=-1)


def test_calendar_in_summer_keeps_the_utc_instant() -> None:
    summer = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)  # 10:30am BST
    event = parse_event(
        booking_calendar(a_booking(a_session(starts_at=summer)), "Norfolk Libraries", STAMP)
    )
    assert event.decoded("DTSTART") == summer
    assert event.decoded("DTEND") == summer + timedelta(minutes=90)


def test_calendar_for_an_online_booking_with_a_link() -> None:
    link = "https://meet.example.org/cuppa-17"
    session = online_session()
    event = parse_event(booking_calendar(a_booking(session, join_link=link), "Cuppa", STAMP))
    assert str(event["SUMMARY"]) == "Colour Me Calm (Cuppa)"
    assert str(event["LOCATION"]) == "Online"
    assert f"Join online: {link}" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == link
    assert event.decoded("DTSTART") == session.starts_at
    assert len(event.walk("VALARM")) == 1


def test_calendar_for_an_online_booking_without_a_link() -> None:
    event = parse_event(booking_calendar(a_booking(online_session()), "Cuppa", STAMP))
    assert "URL" not in event
    assert "Join online" not in str(event["DESCRIPTION"])
    assert "http" not in event.to_ical().decode()
    assert len(event.walk("VALARM")) == 1


# read-mostly lists kept a while ----------------------------------------------------------------


async def test_fresh_keeps_a_list_for_its_time_then_loads_it_again():
    loads = itertools.count(1)
    now = [100.0]

    async def load() -> int:
        return next(loads)

    fresh = Fresh(load, seconds=60, monotonic=lambda: now[0])
    assert [await fresh.get(), await fresh.get()] == [1, 1]
    now[0] += 59.9
    assert await fresh.get() == 1
    now[0] += 0.1
    assert await fresh.get() == 2, "a minute old: loaded again"
    fresh.forget()
    assert await fresh.get() == 3, "and at once after a change made here"
