"""`cuppa-bot` as a person runs it: a real process, a clean environment, a SQLite file."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CUPPA_BOT = Path(sys.executable).parent / "cuppa-bot"
TIMEOUT = 60
PROMPT = "you> "
BUTTON = re.compile(r"^  \[(\d+)\] (.*)$", re.M)
ADDED = re.compile(
    r"^Added (\d+) libraries, (\d+) activities, (\d+) sessions and (\d+) volunteers\.$", re.M
)


def command() -> list[str]:
    if CUPPA_BOT.exists():
        return [str(CUPPA_BOT)]
    return [sys.executable, "-c", "from bot.cli import main; main()"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without any CUPPA_ settings, and a database in tmp_path."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("CUPPA_")}
    clean["CUPPA_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cuppa.db'}"
    clean["PYTHONUNBUFFERED"] = "1"
    clean["PYTHONIOENCODING"] = "utf-8"
    return clean


def cuppa(
    tmp_path: Path, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """Exit status 2 and exactly one 'cuppa-bot: ...' line on stderr, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cuppa-bot: ")
    return lines[0]


# --- configuration mistakes ---------------------------------------------------------------------


def test_unknown_key_in_a_config_file(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "settings.toml").write_text("[telegram]\ntokn = 'x'\n")
    result = cuppa(tmp_path, env, "--config", "settings.toml", "db", "upgrade")
    line = assert_one_line_failure(result)
    assert line == "cuppa-bot: unknown configuration key telegram.tokn"
    assert not (tmp_path / "cuppa.db").exists()


def test_unknown_key_in_the_default_config_file(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "config.toml").write_text("[sessions]\npagesize = 3\n")
    line = assert_one_line_failure(cuppa(tmp_path, env, "db", "upgrade"))
    assert line == "cuppa-bot: unknown configuration key sessions.pagesize"


def test_missing_config_file(tmp_path: Path, env: dict[str, str]) -> None:
    result = cuppa(tmp_path, env, "--config", "missing.toml", "db", "upgrade")
    line = assert_one_line_failure(result)
    assert line == (
        "cuppa-bot: cannot read the configuration file missing.toml: No such file or directory"
    )


def test_unreadable_config_file(tmp_path: Path, env: dict[str, str]) -> None:
    """A path no one can open, even root: its parent is a file."""
    (tmp_path / "secret.toml").write_text("[telegram]\n")
    path = tmp_path / "secret.toml" / "config.toml"
    line = assert_one_line_failure(cuppa(tmp_path, env, "--config", str(path), "db", "upgrade"))
    assert "Not a directory" in line


def test_invalid_toml_config_file(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "broken.toml").write_text("[telegram\n")
    line = assert_one_line_failure(cuppa(tmp_path, env, "--config", "broken.toml", "db", "upgrade"))
    assert line.startswith("cuppa-bot: the configuration file broken.toml is not valid TOML: ")


def test_unknown_cuppa_variable(tmp_path: Path, env: dict[str, str]) -> None:
    env["CUPPA_TELEGRAM_TOKN"] = "123:abc"
    line = assert_one_line_failure(cuppa(tmp_path, env, "db", "upgrade"))
    assert line == "cuppa-bot: unknown configuration variable CUPPA_TELEGRAM_TOKN"


def test_bad_database_url(tmp_path: Path, env: dict[str, str]) -> None:
    env["CUPPA_DATABASE_URL"] = "sqlite:///plain.db"
    line = assert_one_line_failure(cuppa(tmp_path, env, "db", "upgrade"))
    assert "database.url must start with" in line


def test_run_without_a_token(tmp_path: Path, env: dict[str, str]) -> None:
    line = assert_one_line_failure(cuppa(tmp_path, env, "run"))
    assert line == (
        "cuppa-bot: no Telegram token: set telegram.token in the configuration "
        "or CUPPA_TELEGRAM_TOKEN"
    )


def test_chat_as_nonsense(tmp_path: Path, env: dict[str, str]) -> None:
    line = assert_one_line_failure(cuppa(tmp_path, env, "chat", "--as", "nonsense"))
    assert line == (
        "cuppa-bot: --as takes a user id or one of resident, staff, volunteer, not 'nonsense'"
    )


@pytest.mark.parametrize("who", ["-5", "12a", ""])
def test_chat_as_other_non_ids(tmp_path: Path, env: dict[str, str], who: str) -> None:
    line = assert_one_line_failure(cuppa(tmp_path, env, "chat", "--as", who))
    assert line.startswith("cuppa-bot: --as takes a user id")


def test_chat_as_a_superscript_digit(tmp_path: Path, env: dict[str, str]) -> None:
    assert_one_line_failure(cuppa(tmp_path, env, "chat", "--as", "²"))


def test_config_path_that_is_a_directory(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "conf").mkdir()
    assert_one_line_failure(cuppa(tmp_path, env, "--config", "conf", "db", "upgrade"))


# --- the database -------------------------------------------------------------------------------


def added(result: subprocess.CompletedProcess[str]) -> tuple[int, ...]:
    assert result.returncode == 0, result.stderr
    match = ADDED.search(result.stdout)
    assert match, result.stdout
    return tuple(int(n) for n in match.groups())


def test_upgrade_then_seed_demo_twice(tmp_path: Path, env: dict[str, str]) -> None:
    upgraded = cuppa(tmp_path, env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == "The database is up to date."
    assert (tmp_path / "cuppa.db").exists()

    again = cuppa(tmp_path, env, "db", "upgrade")
    assert again.returncode == 0, again.stderr

    libraries, activities, sessions, volunteers = added(cuppa(tmp_path, env, "seed-demo"))
    assert libraries > 0
    assert activities > 0
    assert sessions > 0
    assert volunteers > 0
    assert added(cuppa(tmp_path, env, "seed-demo")) == (0, 0, 0, 0)


# --- chatting -----------------------------------------------------------------------------------


class Chat:
    """`cuppa-bot chat` on pipes: say a line, read until the next prompt, press buttons."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [*command(), "chat", *args],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.deadline = time.monotonic() + TIMEOUT
        self.chunks: queue.Queue[bytes] = queue.Queue()
        self.transcript = ""
        self.stderr = b""
        assert self.process.stdout is not None
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()
        self.last = self.read_to_prompt()

    def _pump(self, stream) -> None:  # type: ignore[no-untyped-def]
        while chunk := os.read(stream.fileno(), 65536):
            self.chunks.put(chunk)
        self.chunks.put(b"")

    def read_to_prompt(self) -> str:
        """Everything printed until the program asks for the next line."""
        raw = b""
        while not raw.decode("utf-8", "replace").endswith(PROMPT):
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.fail("timed out waiting for the prompt")
            try:
                chunk = self.chunks.get(timeout=left)
            except queue.Empty:
                self.fail("timed out waiting for the prompt")
            if not chunk:
                self.fail("the chat ended before asking for more")
            raw += chunk
        text = raw.decode("utf-8")
        self.transcript += text
        return text

    def say(self, line: str) -> str:
        assert self.process.stdin is not None
        self.transcript += line + "\n"
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()
        self.last = self.read_to_prompt()
        return self.last

    def buttons(self) -> list[tuple[int, str]]:
        """The numbered buttons printed by the latest reply."""
        return [(int(number), label) for number, label in BUTTON.findall(self.last)]

    def press(self, wanted: str | re.Pattern[str]) -> str:
        for number, label in self.buttons():
            if label == wanted if isinstance(wanted, str) else wanted.search(label):
                return self.say(str(number))
        self.fail(f"no button {wanted!r} in the latest reply")
        raise AssertionError  # unreachable

    def finish(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(b"quit\n")
        self.process.stdin.close()
        try:
            code = self.process.wait(timeout=max(1.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.fail("the chat did not stop after 'quit'")
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()
        while (chunk := self.chunks.get(timeout=5)) != b"":
            self.transcript += chunk.decode("utf-8", "replace")
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def fail(self, why: str) -> None:
        self.kill()
        stderr = self.process.stderr.read().decode() if self.process.stderr else ""
        pytest.fail(f"{why}\n--- transcript ---\n{self.transcript}\n--- stderr ---\n{stderr}")


@pytest.fixture
def chat(tmp_path: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    started: list[Chat] = []

    def start(*args: str) -> Chat:
        started.append(Chat(tmp_path, env, *args))
        return started[-1]

    yield start
    for each in started:
        each.kill()


def test_chat_from_start_to_a_booking(chat) -> None:  # type: ignore[no-untyped-def]
    me = chat()
    assert "(First run: loaded demo data:" in me.transcript
    assert "Talking to Cuppa on demo data." in me.transcript

    reply = me.say("/start")
    assert "Is that OK?" in reply
    assert [label for _, label in me.buttons()][:3] == [
        "Yes, that's fine",
        "No thanks",
        "Tell me more",
    ]

    reply = me.press("Yes, that's fine")
    assert "Which library is nearest to you?" in reply
    reply = me.press("Norwich")
    library = next(label for _, label in me.buttons() if label.endswith("Library"))
    reply = me.press(library)
    assert f"{library} is now your library" in reply
    reply = me.press("Both")
    assert "you're all set" in reply

    reply = me.press("Find a session")
    assert "What kind of session are you looking for?" in reply
    reply = me.press("Any kind of session")
    assert "Where would you like to go?" in reply
    assert f"At {library}" in [label for _, label in me.buttons()]
    reply = me.press("Anywhere in Norfolk")
    assert "When would you like to go?" in reply
    reply = me.press("Any day")
    assert "found (page 1 of" in reply
    reply = me.press(re.compile(r"^1\. "))
    assert "Places:" in reply
    reply = me.press("Book a place")
    assert "You're booked in" in reply
    assert "You have a place." in reply

    me.press("My bookings")
    assert me.finish() == 0
    assert "Traceback" not in me.transcript
    assert b"Traceback" not in me.stderr
    assert "You're booked in" in me.transcript


def test_chat_numbers_out_of_range_are_just_text(chat) -> None:  # type: ignore[no-untyped-def]
    me = chat()
    me.say("/start")
    reply = me.say("99")  # no button 99: sent as a message, not a crash
    assert "Cuppa" in reply
    assert me.finish() == 0
    assert b"Traceback" not in me.stderr


def test_chat_ends_cleanly_at_end_of_input(tmp_path: Path, env: dict[str, str]) -> None:
    result = cuppa(tmp_path, env, "chat", stdin="/start\n1\n")
    assert result.returncode == 0, result.stderr
    assert "Is that OK?" in result.stdout
    assert "Which library is nearest to you?" in result.stdout
    assert "Traceback" not in result.stderr
