"""A fake Telegram Bot API server on 127.0.0.1, and the real `cuppa-bot run` in its own process
talking HTTP to it as it would to Telegram (via CUPPA_TELEGRAM_BASE_URL, the setting for a
self-hosted Bot API server). Shared by tests/test_run.py and tests/test_multiprocess.py.
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

    def texts(self) -> list[str]:
        """Everything shown: messages sent, and messages edited in place."""
        with self.lock:
            shown = ("sendMessage", "editMessageText")
            return [p.get("text", "") for m, p in self.calls if m in shown]


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


def webhook(port: int, update: dict[str, Any], secret: str = "s3cret") -> urllib.request.Request:
    """An update as Telegram posts it to a bot's webhook (at /telegram, with the secret)."""
    return urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )


def posted(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False
