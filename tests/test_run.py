"""`cuppa-bot run` against a fake Bot API server on 127.0.0.1: polling and webhook modes.

This is the real command in its own process, talking HTTP as it would to Telegram (via
CUPPA_TELEGRAM_BASE_URL, the setting for a self-hosted Bot API server).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

TOKEN = "123456:test-token"
USER = {"id": 555, "is_bot": False, "first_name": "Margaret"}
CHAT = {"id": 555, "type": "private", "first_name": "Margaret"}
START = {
    "update_id": 1,
    "message": {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": CHAT,
        "from": USER,
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    },
}


class FakeTelegram:
    """Answers Bot API calls over HTTP; hands out queued updates to getUpdates."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        with self.lock:
            self.calls.append((method, params))
        if method == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "Cuppa", "username": "cuppa_bot"}
        if method == "getUpdates":
            with self.lock:
                updates, self.updates = self.updates, []
            if not updates:
                time.sleep(0.2)
            return updates
        if method == "sendMessage":
            return {"message_id": 99, "date": 1_700_000_001, "chat": CHAT, "text": "ok"}
        return True

    def methods(self) -> list[str]:
        with self.lock:
            return [method for method, _ in self.calls]

    def sent_texts(self) -> list[str]:
        with self.lock:
            return [p.get("text", "") for m, p in self.calls if m == "sendMessage"]


@pytest.fixture
def telegram() -> Iterator[tuple[FakeTelegram, int]]:
    fake = FakeTelegram()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            method = self.path.rsplit("/", 1)[-1]
            params = form_parameters(body.decode())
            result = fake.answer(method, params)
            payload = json.dumps({"ok": True, "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, server.server_address[1]
    server.shutdown()


def form_parameters(body: str) -> dict[str, Any]:
    """python-telegram-bot posts form fields whose values are JSON (strings stay bare)."""
    params: dict[str, Any] = {}
    for key, [value] in urllib.parse.parse_qs(body).items():
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_bot(tmp_path: Path, port: int, **extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUPPA_")}
    env |= {
        "CUPPA_TELEGRAM_TOKEN": TOKEN,
        "CUPPA_TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}/bot",
        "CUPPA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        **extra,
    }
    script = "from bot.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", script, "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the bot")


def stop(bot: subprocess.Popen[str]) -> str:
    bot.send_signal(signal.SIGINT)
    _, stderr = bot.communicate(timeout=30)
    assert bot.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    return stderr


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
        webhook = next(p for m, p in fake.calls if m == "setWebhook")
        assert webhook["url"] == "https://cuppa.example.org/telegram"
        assert webhook["secret_token"] == "s3cret"
        request = urllib.request.Request(
            f"http://127.0.0.1:{hook_port}/telegram",
            data=json.dumps(START).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": "s3cret",
            },
        )
        wait_for(lambda: _posted(request))
        wait_for(lambda: any("Is that OK?" in text for text in fake.sent_texts()))
    finally:
        stop(bot)
    assert "getUpdates" not in fake.methods()


def _posted(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


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
