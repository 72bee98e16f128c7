"""A local stand-in for the Telegram Bot API, behind python-telegram-bot's `BaseRequest`.

The real `Application` and `Bot` talk to it exactly as they would to Telegram, so `cuppa-bot
chat`, the tests and the benchmarks all run the very handlers that serve Telegram, with no
network. It answers the methods the bot uses, keeps each chat's messages (edits applied),
records every call with a timestamp, enforces Telegram's limits (text length, 64-byte callback
data) the way Telegram does, with a 400, and can be told to fail calls with 429, 403 or a
network error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64

BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Cuppa",
    "username": "norfolk_cuppa_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class ApiFailure(Exception):
    """Raised inside the stand-in to answer a call with an error status."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True


@dataclass
class Shown:
    """A message as the person sees it; `buttons` are (label, callback data or None) rows."""

    message_id: int
    chat_id: int
    text: str
    buttons: list[list[tuple[str, str | None]]] = field(default_factory=list)
    reply_keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    document: tuple[str, bytes] | None = None
    edited: bool = False

    def all_buttons(self) -> list[tuple[str, str | None]]:
        return [button for row in self.buttons for button in row]

    def labels(self) -> list[str]:
        return [label for label, _ in self.all_buttons()]


Fault = Callable[[str, dict[str, Any]], ApiFailure | Exception | None]


class LocalBotApi(BaseRequest):
    """Answers Bot API calls in memory, like Telegram would."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, history: bool = True
    ) -> None:
        """`history`: keep every call and message (tests and the terminal read them). A
        throughput benchmark turns it off and reads `counts`: Telegram's memory of the messages
        is not the bot's, and holding thousands here made the garbage collector slow down
        whichever run came after, by chance."""
        self.clock = clock
        self.history = history
        self.counts: Counter[str] = Counter()
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], Shown] = {}
        self.timeline: list[Shown] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.listeners: list[Callable[[Shown], None]] = []
        self._ids = itertools.count(1)

    # BaseRequest interface
    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open: there is no connection."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = request_data.multipart_data if request_data and request_data.contains_files else {}
        call = ApiCall(api_method, params, self.clock())
        if self.history:
            self.calls.append(call)
        try:
            for fault in list(self.faults):
                failure = fault(api_method, params)
                if isinstance(failure, ApiFailure):
                    raise failure
                if failure is not None:
                    raise failure
            answer = getattr(self, f"_{api_method}", None)
            if answer is None:
                raise ApiFailure(404, "Not Found: method not found")
            result = answer(params, files)
        except ApiFailure as failure:
            call.ok = False
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": failure.description,
            }
            if failure.parameters:
                body["parameters"] = failure.parameters
            return failure.status, json.dumps(body).encode()
        except NetworkError:
            call.ok = False
            raise
        self.counts[api_method] += 1
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # what tests and the terminal read
    def chat(self, chat_id: int) -> list[Shown]:
        """The chat's messages in order, as they look now (edits applied)."""
        return [shown for (chat, _), shown in self.messages.items() if chat == chat_id]

    def sent(self, method: str = "sendMessage") -> list[ApiCall]:
        return [call for call in self.calls if call.method == method and call.ok]

    # answers
    def _getMe(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _sendMessage(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        _check_text(text, TEXT_LIMIT)
        return self._show(params, text)

    def _sendDocument(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, files, "document")

    def _sendPhoto(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, files, "photo")

    def _send_file(
        self, params: dict[str, Any], files: dict[str, Any], kind: str
    ) -> dict[str, Any]:
        caption = str(params.get("caption", ""))
        if len(caption) > CAPTION_LIMIT:
            raise ApiFailure(400, "Bad Request: message caption is too long")
        part = str(params.get(kind) or kind).removeprefix("attach://")
        if part not in files:
            raise ApiFailure(400, f"Bad Request: there is no {kind} in the request")
        filename, content, _mime = files[part]
        content = content if isinstance(content, bytes) else content.read()
        return self._show(params, caption, document=(filename, content))

    def _editMessageText(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        _check_text(text, TEXT_LIMIT)
        shown = self._find(params)
        buttons = _inline_buttons(params.get("reply_markup"))
        if shown.text == text and shown.buttons == buttons:
            raise ApiFailure(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        shown.text, shown.buttons, shown.edited = text, buttons, True
        self._publish(shown)
        return self.message_json(shown)

    def _editMessageReplyMarkup(
        self, params: dict[str, Any], files: dict[str, Any]
    ) -> dict[str, Any]:
        shown = self._find(params)
        shown.buttons, shown.edited = _inline_buttons(params.get("reply_markup")), True
        self._publish(shown)
        return self.message_json(shown)

    def _answerCallbackQuery(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        self.callback_answers.append(params)
        return True

    def _setMyCommands(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        self.commands = list(params.get("commands", []))
        return True

    def _deleteMessage(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
        return True

    def _sendChatAction(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        return True

    def _deleteWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        return True

    def _setWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        return True

    def _getUpdates(self, params: dict[str, Any], files: dict[str, Any]) -> list[Any]:
        return []

    # helpers
    def _show(
        self, params: dict[str, Any], text: str, document: tuple[str, bytes] | None = None
    ) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        markup = params.get("reply_markup")
        shown = Shown(
            message_id=next(self._ids),
            chat_id=chat_id,
            text=text,
            buttons=_inline_buttons(markup),
            reply_keyboard=_reply_keyboard(markup),
            document=document,
        )
        if self.history:
            self.messages[(chat_id, shown.message_id)] = shown
        self._publish(shown)
        return self.message_json(shown)

    def _publish(self, shown: Shown) -> None:
        snapshot = Shown(**{**shown.__dict__, "buttons": [list(r) for r in shown.buttons]})
        if self.history:
            self.timeline.append(snapshot)
        for listener in self.listeners:
            listener(snapshot)

    def _find(self, params: dict[str, Any]) -> Shown:
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        if key not in self.messages:
            raise ApiFailure(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def message_json(self, shown: Shown) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": int(time.time()),
            "chat": {"id": shown.chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if shown.document is not None:
            message["document"] = {
                "file_id": f"doc{shown.message_id}",
                "file_unique_id": f"udoc{shown.message_id}",
                "file_name": shown.document[0],
            }
            if shown.text:
                message["caption"] = shown.text
        else:
            message["text"] = shown.text
        if shown.buttons:
            message["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": label, "callback_data": data} for label, data in row]
                    for row in shown.buttons
                ]
            }
        return message


class DistantBotApi(LocalBotApi):
    """The stand-in behind a network round trip (half on the way there, half on the way back),
    as Telegram is: for checking that sends overlap and still keep to the pace."""

    def __init__(self, round_trip: float) -> None:
        super().__init__()
        self.half = round_trip / 2
        self.in_flight = 0
        self.most_in_flight = 0

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # type: ignore[override]
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.half)
        try:
            return await super().do_request(*args, **kwargs)
        finally:
            await asyncio.sleep(self.half)
            self.in_flight -= 1


def most_in_one_second(times: list[float]) -> int:
    """The most calls in any closed one-second window (Telegram's limits are per second)."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def _check_text(text: str, limit: int) -> None:
    if not text.strip():
        raise ApiFailure(400, "Bad Request: message text is empty")
    if len(text) > limit:
        raise ApiFailure(400, "Bad Request: message is too long")


def _inline_buttons(markup: Any) -> list[list[tuple[str, str | None]]]:
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return []
    rows = []
    for row in markup["inline_keyboard"]:
        buttons = []
        for button in row:
            label = button.get("text", "")
            data = button.get("callback_data")
            if not label.strip():
                raise ApiFailure(400, "Bad Request: button text is empty")
            if data is not None and not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise ApiFailure(400, "Bad Request: BUTTON_DATA_INVALID")
            buttons.append((label, data if data is not None else button.get("url")))
        rows.append(buttons)
    return rows


def _reply_keyboard(markup: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(markup, dict) or "keyboard" not in markup:
        return []
    return [list(row) for row in markup["keyboard"]]
