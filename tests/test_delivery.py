"""Outbox delivery: timing, flood control, blocked people, network trouble, rate limits, leases
and a `kill -9` in the middle of a broadcast.

Everything but the kill test runs on the test's FakeClock: the dispatcher's sleeps move the clock
and the stand-in stamps each call with it, so every timing claim below is read from
`LocalBotApi.calls`, never measured with real time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram.error import NetworkError, TimedOut

from bot.clock import system_clock
from bot.db.database import Database
from bot.db.models import OutboxMessage, Person
from bot.delivery.dispatcher import EXPIRED, LEASE, RECORD_EVERY, UNREACHABLE, Dispatcher
from bot.services.outbox import enqueue
from bot.telegram.application import build_application, dispatcher_for
from bot.telegram.local_api import (
    ApiCall,
    ApiFailure,
    DistantBotApi,
    LocalBotApi,
    most_in_one_second,
)
from bot.telegram.sender import TelegramSender
from tests.world import count

REPO_ROOT = Path(__file__).resolve().parent.parent
DONE = {"sent", "failed", "cancelled"}


# helpers ---------------------------------------------------------------


async def add_people(db: Database, now: datetime, chat_ids: list[int]) -> None:
    async with db.transaction() as session:
        session.add_all(
            Person(telegram_id=chat, first_name=f"Resident {chat}", consented_at=now)
            for chat in chat_ids
        )


async def queue(
    db: Database, now: datetime, messages: list[tuple[int, str]], **options: Any
) -> list[int | None]:
    """enqueue() each (chat, text) for the person with that Telegram id; the row ids (or None)."""
    async with db.transaction() as session:
        chats = {chat for chat, _ in messages}
        people = {
            person.telegram_id: person
            for person in await session.scalars(select(Person).where(Person.telegram_id.in_(chats)))
        }
        rows = [
            enqueue(session, people[chat], kind="test", text=text, now=now, **options)
            for chat, text in messages
        ]
        await session.flush()
        return [row.id if row is not None else None for row in rows]


async def outbox(db: Database) -> dict[int, OutboxMessage]:
    async with db.transaction() as session:
        return {row.id: row for row in await session.scalars(select(OutboxMessage))}


async def person(db: Database, chat_id: int) -> Person:
    async with db.transaction() as session:
        return (await session.scalars(select(Person).where(Person.telegram_id == chat_id))).one()


async def drain(
    dispatcher: Dispatcher, clock: Any, db: Database, *, idle_step: float = 1.0, limit: int = 2000
) -> int:
    """Sweep until nothing is pending, moving the clock on while there is nothing to do now
    (as the delivery loop's poll would); the number of sweeps."""
    for sweeps in range(1, limit + 1):
        report = await dispatcher.sweep()
        if report.handled == 0:
            if await count(db, OutboxMessage, status="pending") == 0:
                return sweeps
            clock.advance(idle_step)
    raise AssertionError(f"rows still pending after {limit} sweeps")


def sends(api: LocalBotApi) -> list[ApiCall]:
    """Every sendMessage call the stand-in received, successful or not."""
    return [call for call in api.calls if call.method == "sendMessage"]


def delivered(api: LocalBotApi) -> Counter[tuple[int, str]]:
    return Counter((int(c.params["chat_id"]), str(c.params["text"])) for c in api.sent())


Fault = Callable[[str, dict[str, Any]], ApiFailure | Exception | None]


def on_chat(chat_id: int, make: Callable[[], ApiFailure | Exception], times: int = 1) -> Fault:
    """Fail the first `times` sendMessage calls to one chat (-1: every one)."""
    left = [times]

    def fault(method: str, params: dict[str, Any]) -> ApiFailure | Exception | None:
        if method != "sendMessage" or int(params["chat_id"]) != chat_id or left[0] == 0:
            return None
        left[0] -= 1
        return make()

    return fault


def too_many_requests() -> ApiFailure:
    return ApiFailure(429, "Too Many Requests: retry after 5", {"retry_after": 5})


def blocked_by_user() -> ApiFailure:
    return ApiFailure(403, "Forbidden: bot was blocked by the user")


def chat_not_found() -> ApiFailure:
    return ApiFailure(400, "Bad Request: chat not found")


def cant_parse() -> ApiFailure:
    return ApiFailure(400, "Bad Request: can't parse entities: unsupported start tag")


# when rows go ----------------------------------------------------------


async def test_due_rows_go_and_future_rows_wait_for_their_time(services, api, dispatcher, clock):
    db = services.db
    await add_people(db, clock(), [101, 102, 103])
    now = clock()
    [due_a, due_b] = await queue(db, now, [(101, "due now"), (102, "due now too")])
    [later] = await queue(
        db, now, [(103, "in ten minutes")], not_before=now + timedelta(minutes=10)
    )

    report = await dispatcher.sweep()
    assert report.sent == 2
    assert sorted(delivered(api)) == [(101, "due now"), (102, "due now too")]
    rows = await outbox(db)
    assert rows[due_a].status == rows[due_b].status == "sent"
    assert rows[due_a].sent_at is not None and rows[due_a].attempts == 1
    assert rows[later].status == "pending"

    clock.advance(9 * 60 + 59)
    await dispatcher.sweep()
    assert (103, "in ten minutes") not in delivered(api)

    clock.advance(1)
    report = await dispatcher.sweep()
    assert report.sent == 1
    assert delivered(api)[(103, "in ten minutes")] == 1
    assert (await outbox(db))[later].status == "sent"


async def test_expired_rows_are_cancelled_with_a_reason_and_never_sent(
    services, api, dispatcher, clock
):
    db = services.db
    await add_people(db, clock(), [111, 112, 113])
    now = clock()
    [stale] = await queue(db, now, [(111, "reminder")], expires_at=now - timedelta(seconds=1))
    [fresh] = await queue(db, now, [(112, "still useful")], expires_at=now + timedelta(hours=1))
    # Due in an hour but worthless after 30 minutes: it must never go.
    [never] = await queue(
        db,
        now,
        [(113, "too late")],
        not_before=now + timedelta(hours=1),
        expires_at=now + timedelta(minutes=30),
    )

    await dispatcher.sweep()
    clock.advance(2 * 3600)
    await drain(dispatcher, clock, db)

    rows = await outbox(db)
    assert rows[fresh].status == "sent"
    for row_id in (stale, never):
        assert rows[row_id].status == "cancelled"
        assert rows[row_id].last_error == EXPIRED
        assert rows[row_id].sent_at is None
    assert [int(c.params["chat_id"]) for c in sends(api)] == [112]


# flood control (429) ---------------------------------------------------


async def test_429_waits_retry_after_for_everything_and_loses_nothing(
    services, api, dispatcher, clock
):
    db = services.db
    chats = list(range(201, 211))
    await add_people(db, clock(), chats)
    ids = await queue(db, clock(), [(chat, f"news for {chat}") for chat in chats])
    api.faults.append(on_chat(203, too_many_requests))

    await drain(dispatcher, clock, db)

    calls = sends(api)
    [flood] = [call for call in calls if not call.ok]
    assert int(flood.params["chat_id"]) == 203
    after = calls[calls.index(flood) + 1 :]
    assert after, "nothing was sent after the 429"
    too_soon = [(int(c.params["chat_id"]), round(c.at - flood.at, 3)) for c in after]
    too_soon = [(chat, gap) for chat, gap in too_soon if gap < 5]
    assert not too_soon, f"sent within 5 s of a 429 asking to wait 5 s: {too_soon}"
    assert delivered(api) == Counter({(chat, f"news for {chat}"): 1 for chat in chats})
    rows = await outbox(db)
    assert {rows[i].status for i in ids} == {"sent"}  # type: ignore[index]


async def test_429_message_itself_is_retried_after_the_wait(services, api, dispatcher, clock):
    db = services.db
    await add_people(db, clock(), [221])
    [row_id] = await queue(db, clock(), [(221, "hello")])
    api.faults.append(on_chat(221, too_many_requests))

    report = await dispatcher.sweep()
    assert (report.retrying, report.sent, report.paused_for) == (1, 0, 5)
    assert (await outbox(db))[row_id].status == "pending"
    clock.advance(4.9)
    await dispatcher.sweep()  # waits out the rest of the pause before it claims anything
    [first, second] = sends(api)
    assert not first.ok and second.ok and second.at - first.at >= 5
    row = (await outbox(db))[row_id]
    assert row.status == "sent"


# blocked (403) ---------------------------------------------------------


async def test_403_marks_the_person_unreachable_and_fails_their_rows(
    services, api, dispatcher, clock
):
    db = services.db
    await add_people(db, clock(), [301, 302])
    now = clock()
    [first, second, third] = await queue(db, now, [(301, "one"), (301, "two"), (301, "three")])
    [later] = await queue(db, now, [(301, "tomorrow")], not_before=now + timedelta(days=1))
    [other] = await queue(db, now, [(302, "for someone else")])
    api.faults.append(on_chat(301, blocked_by_user, times=-1))

    await drain(dispatcher, clock, db)

    assert [call.ok for call in sends(api) if int(call.params["chat_id"]) == 301] == [False]
    gone = await person(db, 301)
    assert gone.unreachable_at is not None
    assert (await person(db, 302)).unreachable_at is None
    rows = await outbox(db)
    for row_id in (first, second, third, later):
        assert rows[row_id].status == "failed"
        assert "unreachable" in rows[row_id].last_error
    assert rows[first].attempts == 1
    assert rows[other].status == "sent"

    async with db.transaction() as session:
        again = (await session.scalars(select(Person).where(Person.telegram_id == 301))).one()
        assert enqueue(session, again, kind="test", text="anyone there?", now=clock()) is None
    clock.advance(3600 * 48)
    await drain(dispatcher, clock, db)
    assert [call.ok for call in sends(api) if int(call.params["chat_id"]) == 301] == [False]


async def test_403_in_a_big_batch_fails_that_persons_rows_after_a_record(
    services, api, dispatcher, clock
):
    """The blocked chat's later rows in the same batch fail too, even past a batch record."""
    db = services.db
    chats = list(range(3000, 3000 + RECORD_EVERY + 20))
    await add_people(db, clock(), [*chats, 399])
    messages = [(399, "first")] + [(chat, "hi") for chat in chats] + [(399, "second")]
    ids = await queue(db, clock(), messages)
    api.faults.append(on_chat(399, blocked_by_user, times=-1))

    await drain(dispatcher, clock, db)

    rows = await outbox(db)
    assert rows[ids[0]].status == rows[ids[-1]].status == "failed"  # type: ignore[index]
    assert rows[ids[-1]].last_error == UNREACHABLE  # type: ignore[index]
    assert len([c for c in sends(api) if int(c.params["chat_id"]) == 399]) == 1
    assert sum(1 for row in rows.values() if row.status == "sent") == len(chats)


# network trouble -------------------------------------------------------


async def test_network_errors_back_off_more_each_time_then_send(services, api, dispatcher, clock):
    db = services.db
    await add_people(db, clock(), [401, 402])
    [flaky, slow] = await queue(db, clock(), [(401, "flaky"), (402, "slow")])
    api.faults.append(on_chat(401, lambda: NetworkError("connection reset"), times=3))
    api.faults.append(on_chat(402, lambda: TimedOut(), times=2))

    await drain(dispatcher, clock, db, idle_step=0.25)

    attempts = [c for c in sends(api) if int(c.params["chat_id"]) == 401]
    assert [c.ok for c in attempts] == [False, False, False, True]
    gaps = [b.at - a.at for a, b in pairwise(attempts)]
    assert all(later > earlier for earlier, later in pairwise(gaps)), gaps
    assert all(gap >= 2 ** (n + 1) for n, gap in enumerate(gaps)), gaps
    assert [c.ok for c in sends(api) if int(c.params["chat_id"]) == 402] == [False, False, True]
    rows = await outbox(db)
    assert (rows[flaky].status, rows[flaky].attempts) == ("sent", 4)
    assert (rows[slow].status, rows[slow].attempts) == ("sent", 3)


async def test_network_errors_give_up_after_max_attempts(services, api, dispatcher, clock):
    db = services.db
    tries = services.config.delivery.max_attempts
    await add_people(db, clock(), [411, 412])
    [doomed, fine] = await queue(db, clock(), [(411, "never arrives"), (412, "arrives")])
    api.faults.append(on_chat(411, lambda: TimedOut(), times=-1))

    await drain(dispatcher, clock, db)

    assert len([c for c in sends(api) if int(c.params["chat_id"]) == 411]) == tries
    rows = await outbox(db)
    assert rows[doomed].status == "failed"
    assert rows[doomed].attempts == tries
    assert f"gave up after {tries} tries" in rows[doomed].last_error
    assert "timed out" in rows[doomed].last_error.lower()
    assert rows[fine].status == "sent"
    assert (await person(db, 411)).unreachable_at is None


# other 400s and the general promise ------------------------------------


async def test_400_chat_not_found_is_treated_as_blocked(services, api, dispatcher, clock):
    db = services.db
    await add_people(db, clock(), [501])
    [row_id, other] = await queue(db, clock(), [(501, "hello"), (501, "again")])
    api.faults.append(on_chat(501, chat_not_found, times=-1))

    await drain(dispatcher, clock, db)

    rows = await outbox(db)
    assert rows[row_id].status == rows[other].status == "failed"
    assert rows[row_id].last_error == UNREACHABLE
    assert (await person(db, 501)).unreachable_at is not None
    assert len(sends(api)) == 1


async def test_other_400s_fail_once_with_telegrams_reason(services, api, dispatcher, clock):
    db = services.db
    await add_people(db, clock(), [511, 512, 513])
    [too_long, bad_markup, fine] = await queue(
        db, clock(), [(511, "x" * 5000), (512, "<b>bold"), (513, "fine")]
    )
    api.faults.append(on_chat(512, cant_parse, times=-1))

    await drain(dispatcher, clock, db)

    rows = await outbox(db)
    assert rows[too_long].status == "failed"
    assert "too long" in rows[too_long].last_error.lower()
    assert rows[bad_markup].status == "failed"
    assert "can't parse entities" in rows[bad_markup].last_error.lower()
    assert rows[too_long].attempts == rows[bad_markup].attempts == 1
    assert rows[fine].status == "sent"
    # A bad message says nothing about the person: they can still be written to.
    assert (await person(db, 511)).unreachable_at is None
    assert (await person(db, 512)).unreachable_at is None
    assert len(sends(api)) == 3


async def test_every_row_ends_sent_failed_or_cancelled(services, api, dispatcher, clock):
    """A mix of every kind of trouble: nothing is stuck pending, every row went at most once,
    and exactly the rows marked sent are the ones the person got."""
    db = services.db
    rng = random.Random(20261124)
    chats = list(range(600, 660))
    await add_people(db, clock(), chats)
    now = clock()
    messages = [(chat, f"message {n} for {chat}") for n in range(2) for chat in chats]
    await queue(db, now, messages)
    await queue(db, now, [(chats[0], "expired")], expires_at=now - timedelta(minutes=1))
    await queue(db, now, [(chats[1], "later")], not_before=now + timedelta(minutes=5))
    makers = [
        too_many_requests,
        blocked_by_user,
        chat_not_found,
        cant_parse,
        lambda: NetworkError("connection reset"),
        lambda: TimedOut(),
    ]

    def chaos(method: str, params: dict[str, Any]) -> ApiFailure | Exception | None:
        if method == "sendMessage" and rng.random() < 0.2:
            return rng.choice(makers)()
        return None

    api.faults.append(chaos)
    await drain(dispatcher, clock, db, limit=5000)

    rows = list((await outbox(db)).values())
    assert {row.status for row in rows} <= DONE
    assert all(row.last_error for row in rows if row.status != "sent")
    got = delivered(api)
    assert max(got.values()) == 1
    assert set(got) == {(row.chat_id, row.text) for row in rows if row.status == "sent"}
    assert {row.status for row in rows} == DONE


# rate limits -----------------------------------------------------------


async def test_rate_limits_30_a_second_and_1_a_second_per_chat(services, api, dispatcher, clock):
    db = services.db
    chats = list(range(10_000, 10_300))
    busy = 77
    await add_people(db, clock(), [*chats, busy])
    messages: list[tuple[int, str]] = []
    for n, chat in enumerate(chats):
        messages.append((chat, f"broadcast {chat}"))
        if n % 30 == 0:
            messages.append((busy, f"busy {n // 30}"))
    assert len(messages) == 310
    ids = await queue(db, clock(), messages)

    await drain(dispatcher, clock, db, idle_step=0.1)

    calls = sends(api)
    assert all(call.ok for call in calls)
    assert delivered(api) == Counter({message: 1 for message in messages})
    peak = most_in_one_second([call.at for call in calls])
    assert peak <= 30, f"{peak} sendMessage calls in one second"
    by_chat: dict[int, list[float]] = {}
    for call in calls:
        by_chat.setdefault(int(call.params["chat_id"]), []).append(call.at)
    worst = max(most_in_one_second(times) for times in by_chat.values())
    assert worst == 1, f"{worst} messages to one chat in one second"
    busy_times = by_chat[busy]
    assert len(busy_times) == 10
    # The limit is also used, not just respected: 310 messages need about 310/30 s, not much more.
    span = max(call.at for call in calls) - min(call.at for call in calls)
    assert span < 310 / 30 * 1.1, span
    rows = await outbox(db)
    assert {rows[i].status for i in ids} == {"sent"}  # type: ignore[index]


async def test_sends_overlap_across_network_latency_within_the_limit(services, clock):
    db = services.db
    chats = list(range(20_000, 20_045))
    await add_people(db, clock(), chats)
    await queue(db, clock(), [(chat, f"broadcast {chat}") for chat in chats])
    api = DistantBotApi(round_trip=0.05)
    application = build_application(services, request=api)
    async with application:
        worker = dispatcher_for(application)  # real sleep and monotonic time
        while (await worker.sweep()).handled:
            pass
    times = [call.at for call in api.sent()]
    assert len(times) == len(chats)
    assert most_in_one_second(times) <= 30
    # Sends overlap rather than queue behind each round trip (the rate itself is measured in
    # bench/delivery.py --latency-ms 50, not in a timed test).
    assert api.most_in_flight > 1


# leases ----------------------------------------------------------------


class GatedSender:
    """A sender that holds every message until `gate` opens (a worker stuck mid-batch)."""

    def __init__(self, inner: TelegramSender) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def send(self, chat_id: int, text: str, keyboard: Any) -> None:
        self.waiting.set()
        await self.gate.wait()
        await self.inner.send(chat_id, text, keyboard)


@pytest.fixture
async def second_db(database_url: str) -> AsyncIterator[Database]:
    """Another engine on the same database, as a second bot process would have."""
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_a_second_dispatcher_leaves_claimed_rows_until_the_lease_lapses(
    services, app, api, clock, second_db
):
    db = services.db
    delivery = services.config.delivery
    chats = list(range(700, 720))
    await add_people(db, clock(), chats)
    ids = await queue(db, clock(), [(chat, f"to {chat}") for chat in chats])
    stuck = GatedSender(TelegramSender(app.bot))
    first = Dispatcher(db, delivery, clock, stuck, sleep=clock.sleep, monotonic=clock.monotonic)
    second = Dispatcher(
        second_db,
        delivery,
        clock,
        TelegramSender(app.bot),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )

    worker = asyncio.create_task(first.sweep())
    await asyncio.wait_for(stuck.waiting.wait(), 10)
    report = await second.sweep()
    assert report.handled == 0
    assert not sends(api)

    # The first worker dies holding its claims; nothing goes until the lease is over.
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    clock.advance(LEASE.total_seconds() - 1)
    assert (await second.sweep()).handled == 0
    assert not sends(api)

    clock.advance(2)
    await drain(second, clock, second_db)
    assert delivered(api) == Counter({(chat, f"to {chat}"): 1 for chat in chats})
    rows = await outbox(db)
    assert {rows[i].status for i in ids} == {"sent"}  # type: ignore[index]


async def test_two_dispatchers_at_once_send_each_row_once(services, app, api, clock, second_db):
    db = services.db
    delivery = services.config.delivery
    chats = list(range(800, 1200))
    await add_people(db, clock(), chats)
    await queue(db, clock(), [(chat, f"to {chat}") for chat in chats])
    # Real time for both, as two processes would have (a shared fake clock would let one worker
    # fast-forward time past the other's claim); pacing is lifted, as it is not the point here.
    unpaced = dataclasses.replace(delivery, messages_per_second=1e6, per_chat_per_second=1e6)
    workers = [
        Dispatcher(database, unpaced, system_clock, TelegramSender(app.bot))
        for database in (db, second_db)
    ]

    async def run(worker: Dispatcher, database: Database) -> None:
        await drain(worker, clock, database)

    await asyncio.gather(*(run(w, d) for w, d in zip(workers, (db, second_db), strict=True)))

    assert delivered(api) == Counter({(chat, f"to {chat}"): 1 for chat in chats})
    assert await count(db, OutboxMessage, status="sent") == len(chats)


# kill -9 ---------------------------------------------------------------


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'killed.db'}"
    database = Database(url)
    try:
        await database.upgrade()
    finally:
        await database.dispose()
    return url


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


async def _start(url: str, log: Path, errors: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.delivery_process",
        url,
        str(log),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=errors.open("ab"),
    )


async def test_kill_9_mid_broadcast_loses_nothing_and_repeats_little(
    sqlite_url: str, tmp_path: Path
):
    total, kill_at = 150, 40
    db = Database(sqlite_url)
    try:
        now = datetime.now(UTC)
        chats = list(range(900_000, 900_000 + total))
        await add_people(db, now, chats)
        await queue(db, now, [(chat, f"broadcast to {chat}") for chat in chats])
    finally:
        await db.dispose()
    log, errors = tmp_path / "sent.log", tmp_path / "stderr.log"

    process = await _start(sqlite_url, log, errors)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while len(_lines(log)) < kill_at:
        assert process.returncode is None, errors.read_text()
        assert loop.time() < deadline, f"no {kill_at} sends in 60 s: {errors.read_text()}"
        await asyncio.sleep(0.002)
    process.kill()
    assert await process.wait() == -9
    before_restart = len(_lines(log))
    assert before_restart < total, "the first run finished before it could be killed"

    process = await _start(sqlite_url, log, errors)
    assert await asyncio.wait_for(process.wait(), 120) == 0, errors.read_text()

    lines = Counter(_lines(log))
    expected = {f"{chat}\tbroadcast to {chat}" for chat in chats}
    assert expected <= set(lines), f"never sent: {sorted(expected - set(lines))[:5]}"
    assert set(lines) == expected
    duplicates = sum(lines.values()) - len(lines)
    print(f"\nkill -9 after {before_restart} sends: {duplicates} sent twice (of {total})")
    assert duplicates <= RECORD_EVERY
    db = Database(sqlite_url)
    try:
        assert await count(db, OutboxMessage, status="sent") == total
        assert await count(db, OutboxMessage) == total
    finally:
        await db.dispose()
