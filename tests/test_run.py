"""`cuppa-bot run` against a fake Bot API server on 127.0.0.1: polling and webhook modes.

This is the real command in its own process, talking HTTP as it would to Telegram (see
tests/fake_telegram.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fake_telegram import (
    START,
    TOKEN,
    free_port,
    posted,
    start_bot,
    stop,
    wait_for,
    webhook,
)


def test_run_polls_sets_the_command_menu_and_answers(telegram, tmp_path):
    fake, port = telegram
    fake.updates.append(START)
    bot = start_bot(tmp_path, port)
    try:
        wait_for(lambda: any("Is that OK?" in text for text in fake.sent_texts()))
    finally:
        stop(bot)
    methods = fake.methods()
    assert "setMyCommands" in methods
    assert "getUpdates" in methods
    commands = next(p for m, p in fake.calls if m == "setMyCommands")["commands"]
    assert [c["command"] for c in commands] == [
        "start",
        "sessions",
        "mybookings",
        "readingfriends",
        "volunteer",
        "help",
        "privacy",
        "mydata",
        "forgetme",
        "cancel",
    ]


def test_run_with_a_webhook_url_takes_updates_by_webhook(telegram, tmp_path):
    fake, port = telegram
    hook_port = free_port()
    bot = start_bot(
        tmp_path,
        port,
        CUPPA_TELEGRAM_WEBHOOK_URL="https://cuppa.example.org/telegram",
        CUPPA_TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
        CUPPA_TELEGRAM_WEBHOOK_PORT=str(hook_port),
        CUPPA_TELEGRAM_WEBHOOK_SECRET="s3cret",
    )
    try:
        wait_for(lambda: "setWebhook" in fake.methods())
        registered = next(p for m, p in fake.calls if m == "setWebhook")
        assert registered["url"] == "https://cuppa.example.org/telegram"
        assert registered["secret_token"] == "s3cret"
        wait_for(lambda: posted(webhook(hook_port, START)))
        wait_for(lambda: any("Is that OK?" in text for text in fake.sent_texts()))
    finally:
        stop(bot)
    assert "getUpdates" not in fake.methods()


def test_run_refuses_to_start_without_the_phone_key_once_readers_exist(tmp_path):
    """Numbers stored encrypted must stay readable: no key, no start (one clear line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUPPA_")}
    env["CUPPA_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    register = (
        "import asyncio\n"
        "from bot.config import load_config\n"
        "from bot.core import build_services\n"
        "from bot.services.phones import new_key\n"
        "async def main():\n"
        "    config = load_config(env={'CUPPA_DATABASE_URL': '" + env["CUPPA_DATABASE_URL"] + "',"
        " 'CUPPA_READING_FRIENDS_PHONE_KEY': new_key()})\n"
        "    services = build_services(config)\n"
        "    await services.db.upgrade()\n"
        "    await services.readers.register(first_name='Edna', phone='01603 774774',"
        " interests=[], needs='', staff_id=9001)\n"
        "    await services.db.dispose()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", register], cwd=tmp_path, env=env, check=True)
    env["CUPPA_TELEGRAM_TOKEN"] = TOKEN
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("cuppa-bot: readers are registered")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_second_bot_on_one_sqlite_file_is_refused(telegram, tmp_path):
    fake, port = telegram
    first = start_bot(tmp_path, port)
    try:
        wait_for(lambda: "getUpdates" in fake.methods())
        second = start_bot(tmp_path, port)
        _, stderr = second.communicate(timeout=60)
        assert second.returncode == 2
        assert stderr.strip().startswith("cuppa-bot: another cuppa-bot process is already using")
        assert len(stderr.strip().splitlines()) == 1
    finally:
        stop(first)


def doctor(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUPPA_")}
    env |= {"CUPPA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}", **extra}
    script = "from bot.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", script, "doctor"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doctor_says_plainly_what_is_wrong(tmp_path):
    result = doctor(tmp_path)
    assert result.returncode == 1
    assert "BAD  the schema is at migration none" in result.stdout
    assert "run `cuppa-bot db upgrade`" in result.stdout
    assert "BAD  no Telegram token" in result.stdout
    assert "Traceback" not in result.stderr


def test_doctor_all_good(telegram, tmp_path):
    _, port = telegram
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUPPA_")}
    env["CUPPA_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}"
    script = "from bot.cli import main; main()"
    subprocess.run(
        [sys.executable, "-c", script, "db", "upgrade"], cwd=tmp_path, env=env, check=True
    )
    result = doctor(
        tmp_path,
        CUPPA_TELEGRAM_TOKEN=TOKEN,
        CUPPA_TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot",
    )
    assert result.returncode == 0, result.stdout
    assert "ok   the token works: this is @cuppa_bot (polling)" in result.stdout
    assert result.stdout.strip().endswith("All good.")
