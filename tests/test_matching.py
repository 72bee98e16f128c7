"""Reading Friends matching: the rules (availability across clock changes, capacity, busy slots,
declines, one call at a time) and the objective (most matched, then the best total), checked on
small cases by hand and on many random ones against networkx's max-flow-min-cost and brute force.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.matching import (
    Candidate,
    OpenCall,
    available,
    greedy,
    load_cost,
    match,
    score,
)

TZ = ZoneInfo("Europe/London")
MON, SUN = 0, 6
SPRING_WEEK = date(2026, 3, 23)  # British Summer Time starts on Sunday 29 March, 01:00 UTC
AUTUMN_WEEK = date(2026, 10, 19)  # and ends on Sunday 25 October, 01:00 UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def volunteer(id: int, *windows: tuple[int, int, int], capacity: int = 5, **more) -> Candidate:
    return Candidate(id=id, windows=windows, capacity=capacity, **more)


def call(id: int, starts_at: datetime, **more) -> OpenCall:
    return OpenCall(id=id, starts_at=starts_at, reader_id=100 + id, **more)


# available(): local wall-clock windows, GMT and BST ----------------------------------------

TEN_TO_ELEVEN_MONDAY = volunteer(1, (MON, 600, 660))


@pytest.mark.parametrize(
    ("starts_at", "expected"),
    [
        (utc(2026, 3, 23, 10, 0), True),  # 10:00 GMT
        (utc(2026, 3, 23, 10, 30), True),  # 10:30-11:00 GMT: fits exactly
        (utc(2026, 3, 23, 10, 45), False),  # runs past 11:00
        (utc(2026, 3, 23, 9, 45), False),  # starts before 10:00
        (utc(2026, 3, 30, 9, 0), True),  # 10:00 BST, the week after the change
        (utc(2026, 3, 30, 10, 0), False),  # 11:00 BST
        (utc(2026, 10, 26, 10, 0), True),  # 10:00 GMT again after the autumn change
        (utc(2026, 10, 19, 10, 0), False),  # 11:00 BST the week before
        (utc(2026, 3, 24, 10, 0), False),  # a Tuesday
    ],
)
def test_windows_are_local_wall_clock_time_in_gmt_and_bst(starts_at, expected):
    assert available(TEN_TO_ELEVEN_MONDAY, starts_at, TZ) is expected


def test_a_call_across_the_spring_jump_needs_the_skipped_hour_too():
    # 00:45 GMT: the clock shows 00:45-00:59, then jumps to 02:00-02:14 BST.
    starts_at = utc(2026, 3, 29, 0, 45)
    assert not available(volunteer(1, (SUN, 0, 120)), starts_at, TZ)
    assert available(volunteer(1, (SUN, 30, 135)), starts_at, TZ)
    # 00:30 GMT ends as the clock jumps, showing only 00:30-00:59.
    assert available(volunteer(1, (SUN, 30, 60)), utc(2026, 3, 29, 0, 30), TZ)


def test_a_call_across_the_autumn_fallback_covers_the_repeated_hour():
    # 01:45 BST: the clock shows 01:45-01:59, then falls back to 01:00-01:14 GMT.
    starts_at = utc(2026, 10, 25, 0, 45)
    assert not available(volunteer(1, (SUN, 90, 120)), starts_at, TZ)
    assert available(volunteer(1, (SUN, 60, 120)), starts_at, TZ)
    # 01:30 BST ends as the clock falls back: 01:30-01:59 only.
    assert available(volunteer(1, (SUN, 90, 120)), utc(2026, 10, 25, 0, 30), TZ)


def test_the_call_must_fit_in_one_window_not_two_touching_ones():
    joined = volunteer(1, (MON, 600, 615), (MON, 615, 660))
    assert not available(joined, utc(2026, 3, 23, 10, 0), TZ)


def test_the_local_weekday_counts_not_the_utc_one():
    # Monday 00:15 BST is still Sunday 23:15 in UTC.
    assert available(volunteer(1, (MON, 0, 60)), utc(2026, 3, 29, 23, 15), TZ)
    assert not available(volunteer(1, (SUN, 1380, 1440)), utc(2026, 3, 29, 23, 15), TZ)


# match(): the rules ------------------------------------------------------------------------

MORNING = (MON, 9 * 60, 12 * 60)  # Monday 9am-noon local
WEEK1 = [utc(2026, 1, 5, 9, 0) + timedelta(minutes=30 * k) for k in range(6)]  # Mon 9am-noon GMT
WEEK1_MONDAY = date(2026, 1, 5)


def test_one_call_at_a_time():
    calls = [call(1, WEEK1[0]), call(2, WEEK1[0])]
    assert len(match(calls, [volunteer(7, MORNING)], TZ)) == 1
    assert match(calls, [volunteer(7, MORNING), volunteer(8, MORNING)], TZ).keys() == {1, 2}


def test_weekly_capacity_counts_the_calls_already_held():
    calls = [call(i, WEEK1[i]) for i in range(4)]
    held_two = volunteer(7, MORNING, capacity=3, load={WEEK1_MONDAY: 2})
    assert len(match(calls, [held_two], TZ)) == 1
    # Load in another week does not use up this one.
    other_week = volunteer(7, MORNING, capacity=3, load={date(2025, 12, 29): 3})
    assert len(match(calls, [other_week], TZ)) == 3
    full = volunteer(7, MORNING, capacity=2, load={WEEK1_MONDAY: 2})
    assert match(calls, [full], TZ) == {}


def test_capacity_is_per_local_week():
    # Sunday 23:30 BST and Monday 00:30 BST are different local weeks (but the same UTC day).
    late = volunteer(7, (SUN, 23 * 60, 24 * 60), (MON, 0, 60), capacity=1)
    calls = [call(1, utc(2026, 4, 5, 22, 30)), call(2, utc(2026, 4, 5, 23, 30))]
    assert match(calls, [late], TZ) == {1: 7, 2: 7}


def test_busy_slots_and_declines_are_respected():
    calls = [call(1, WEEK1[0]), call(2, WEEK1[1], declined_by=frozenset({7}))]
    busy = volunteer(7, MORNING, busy=frozenset({WEEK1[0]}))
    assert match(calls, [busy], TZ) == {}
    assert match(calls, [busy, volunteer(8, MORNING)], TZ) == {1: 8, 2: 8}


def test_continuity_comes_first_then_shared_interests():
    reads = frozenset({"crime", "poetry", "gardening", "history", "travel", "music"})
    same_tastes = volunteer(7, MORNING, interests=reads)
    usual = volunteer(8, MORNING)
    assert match(
        [call(1, WEEK1[0], interests=reads, usual_volunteer=8)], [same_tastes, usual], TZ
    ) == {1: 8}
    assert match([call(1, WEEK1[0], interests=reads)], [same_tastes, usual], TZ) == {1: 7}
    assert score(call(1, WEEK1[0], interests=reads, usual_volunteer=8), usual) == 100
    assert score(call(1, WEEK1[0], interests=reads), same_tastes) == 50  # five counted at most


def test_load_is_spread_evenly():
    busy_week = volunteer(7, MORNING, load={WEEK1_MONDAY: 3})
    quiet_week = volunteer(8, MORNING)
    assert match([call(1, WEEK1[0])], [busy_week, quiet_week], TZ) == {1: 8}
    calls = [call(1, WEEK1[0]), call(2, WEEK1[1])]
    spread = match(calls, [volunteer(7, MORNING), volunteer(8, MORNING)], TZ)
    assert sorted(spread.values()) == [7, 8]
    assert load_cost(2) > load_cost(1)


def test_the_load_cost_rises_with_each_call_in_a_week():
    # Volunteer 7 shares an interest with every reader (+10 a call), but a fifth call in one
    # week costs 15 against 3 for volunteer 8's first: four calls to 7 and one to 8.
    calls = [call(i, WEEK1[i], interests=frozenset({"crime"})) for i in range(5)]
    keen = volunteer(7, MORNING, interests=frozenset({"crime"}))
    spread = match(calls, [keen, volunteer(8, MORNING)], TZ)
    assert Counter(spread.values()) == {7: 4, 8: 1}


def test_more_calls_matched_beats_a_better_score():
    # Call 1 would score best with volunteer 7, but only 7 can take call 2.
    calls = [call(1, WEEK1[0], usual_volunteer=7), call(2, WEEK1[1])]
    one_call = volunteer(7, MORNING, capacity=1)
    other = volunteer(8, (MON, 9 * 60, 9 * 60 + 30))
    assert match(calls, [one_call, other], TZ) == {1: 8, 2: 7}
    assert len(greedy(calls, [one_call, other], TZ)) == 1  # first come takes 7 for call 1


def test_nothing_to_match():
    assert match([], [volunteer(7, MORNING)], TZ) == {}
    assert match([call(1, WEEK1[0])], [], TZ) == {}


# match() against references on random small instances ----------------------------------------


def readings(starts_at: datetime) -> list[datetime]:
    """Every minute of a call on the local clock (written apart from the module's fast path)."""
    return [(starts_at + timedelta(minutes=k)).astimezone(TZ) for k in range(30)]


def reference_available(v: Candidate, starts_at: datetime) -> bool:
    wall = readings(starts_at)
    first = wall[0]
    minutes = [(r.date() - first.date()).days * 1440 + r.hour * 60 + r.minute for r in wall]
    return any(
        day == first.weekday() and lo <= min(minutes) and max(minutes) < hi
        for day, lo, hi in v.windows
    )


def monday(starts_at: datetime) -> date:
    day = starts_at.astimezone(TZ).date()
    return day - timedelta(days=day.weekday())


def allowed(c: OpenCall, v: Candidate) -> bool:
    return (
        v.id not in c.declined_by
        and c.starts_at not in v.busy
        and v.load.get(monday(c.starts_at), 0) < v.capacity
        and reference_available(v, c.starts_at)
    )


def check_feasible(assignment: dict[int, int], calls: list[OpenCall], vols: list[Candidate]):
    by_call, by_vol = {c.id: c for c in calls}, {v.id: v for v in vols}
    assert set(assignment) <= set(by_call)
    slots = [(v, by_call[c].starts_at) for c, v in assignment.items()]
    assert len(set(slots)) == len(slots), "two calls at once"
    weeks = Counter((v, monday(by_call[c].starts_at)) for c, v in assignment.items())
    for (v, week), n in weeks.items():
        assert by_vol[v].load.get(week, 0) + n <= by_vol[v].capacity, "over capacity"
    for c, v in assignment.items():
        assert allowed(by_call[c], by_vol[v]), f"call {c} not allowed for volunteer {v}"


def total(assignment: dict[int, int], calls: list[OpenCall], vols: list[Candidate]) -> int:
    """Scores minus the load cost of each volunteer's calls in each week."""
    by_call, by_vol = {c.id: c for c in calls}, {v.id: v for v in vols}
    value = sum(score(by_call[c], by_vol[v]) for c, v in assignment.items())
    weeks = Counter((v, monday(by_call[c].starts_at)) for c, v in assignment.items())
    for (v, week), n in weeks.items():
        held = by_vol[v].load.get(week, 0)
        value -= sum(load_cost(held + k) for k in range(1, n + 1))
    return value


def networkx_best(calls: list[OpenCall], vols: list[Candidate]) -> tuple[int, int]:
    """(most matched, best total) from networkx's max_flow_min_cost on the flow network."""
    g = nx.DiGraph()
    g.add_node("source")
    g.add_node("sink")
    for c in calls:
        g.add_edge("source", ("call", c.id), capacity=1, weight=0)
        for v in vols:
            if allowed(c, v):
                slot, week = ("slot", v.id, c.starts_at), ("week", v.id, monday(c.starts_at))
                g.add_edge(("call", c.id), slot, capacity=1, weight=-score(c, v))
                g.add_edge(slot, week, capacity=1, weight=0)
    for node in [n for n in g if n[0] == "week"]:
        _, v_id, week = node
        v = next(v for v in vols if v.id == v_id)
        held = v.load.get(week, 0)
        for k in range(1, v.capacity - held + 1):
            g.add_edge(node, ("seat", v_id, week, k), capacity=1, weight=load_cost(held + k))
            g.add_edge(("seat", v_id, week, k), "sink", capacity=1, weight=0)
    flow = nx.max_flow_min_cost(g, "source", "sink")
    return sum(flow["source"].values()), -nx.cost_of_flow(g, flow)


def brute_best(calls: list[OpenCall], vols: list[Candidate]) -> tuple[int, int]:
    """(most matched, best total) by trying every assignment."""
    options = [[None, *(v.id for v in vols if allowed(c, v))] for c in calls]
    best = (0, 0)
    for choice in itertools.product(*options):
        assignment = {c.id: v for c, v in zip(calls, choice, strict=True) if v is not None}
        slots = [(v, c.starts_at) for c, v in zip(calls, choice, strict=True) if v is not None]
        if len(set(slots)) < len(slots):
            continue
        by_vol = {v.id: v for v in vols}
        by_call = {c.id: c for c in calls}
        weeks = Counter((v, monday(by_call[c].starts_at)) for c, v in assignment.items())
        if any(by_vol[v].load.get(w, 0) + n > by_vol[v].capacity for (v, w), n in weeks.items()):
            continue
        best = max(best, (len(assignment), total(assignment, calls, vols)))
    return best


# Starts on a few days of two weeks around each clock change, by day and in the small hours.
SEASONS = (SPRING_WEEK, AUTUMN_WEEK, date(2026, 1, 5))
DAY_OFFSETS = (0, 1, 6, 7)  # Monday, Tuesday, the Sunday of the change, the next Monday
UTC_MINUTES = (30, 45, 60, 9 * 60, 9 * 60 + 30, 10 * 60)
INTEREST_POOL = ("crime", "poetry", "gardening", "history")


@st.composite
def instances(draw, max_calls: int = 8, max_vols: int = 5):
    season = draw(st.sampled_from(SEASONS))
    pool = [
        datetime.combine(season + timedelta(days=d), datetime.min.time(), UTC)
        + timedelta(minutes=m)
        for d in DAY_OFFSETS
        for m in UTC_MINUTES
    ]
    starts = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    n_vols = draw(st.integers(1, max_vols))
    interests = st.frozensets(st.sampled_from(INTEREST_POOL), max_size=3)
    vols = []
    for v_id in range(1, n_vols + 1):
        windows = []
        for start in draw(st.lists(st.sampled_from(starts), min_size=1, max_size=4)):
            local = start.astimezone(TZ)
            begin = local.hour * 60 + local.minute - draw(st.sampled_from((0, 15, 30)))
            end = begin + draw(st.sampled_from((30, 45, 60, 90, 120)))
            windows.append((local.weekday(), max(begin, 0), min(end, 1440)))
        weeks = sorted({monday(s) for s in starts})
        load = {w: draw(st.integers(0, 2)) for w in weeks if draw(st.integers(0, 3)) == 0}
        vols.append(
            Candidate(
                id=v_id,
                windows=tuple(windows),
                capacity=draw(st.integers(1, 3)),
                load=load,
                busy=frozenset(draw(st.lists(st.sampled_from(starts), max_size=1))),
                interests=draw(interests),
            )
        )
    ids = st.integers(1, n_vols)
    calls = [
        OpenCall(
            id=c_id,
            starts_at=draw(st.sampled_from(starts)),
            reader_id=draw(st.integers(1, 3)),
            interests=draw(interests),
            usual_volunteer=draw(st.none() | ids),
            declined_by=draw(st.frozensets(ids, max_size=1)),
        )
        for c_id in range(1, draw(st.integers(1, max_calls)) + 1)
    ]
    return calls, vols


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances())
def test_match_equals_the_networkx_optimum(instance):
    calls, vols = instance
    assignment = match(calls, vols, TZ)
    check_feasible(assignment, calls, vols)
    assert (len(assignment), total(assignment, calls, vols)) == networkx_best(calls, vols)


@SETTINGS
@given(instances(max_calls=5, max_vols=3))
def test_match_equals_brute_force(instance):
    calls, vols = instance
    assignment = match(calls, vols, TZ)
    check_feasible(assignment, calls, vols)
    assert (len(assignment), total(assignment, calls, vols)) == brute_best(calls, vols)


@settings(max_examples=100, deadline=None)
@given(instances())
def test_greedy_is_feasible_and_never_beats_match(instance):
    calls, vols = instance
    first_come = greedy(calls, vols, TZ)
    check_feasible(first_come, calls, vols)
    assert len(first_come) <= len(match(calls, vols, TZ))
