"""Reading Friends matching: every open call booking to an approved volunteer, all at once.

Pure logic (no database, no Telegram): the periodic job loads open calls and candidates, calls
`match()`, and offers each call to the volunteer it returns.

Feasible pairs. A volunteer can take a call when the whole 30-minute call lies inside one of their
weekly windows (local wall-clock time, so a 10am window means 10am in GMT and in BST; across a
clock change, every reading the clock shows during the call must lie in the window), the slot
is not already in their `busy` set, they have room left in that local week (capacity minus the
calls already held, keyed by the week's Monday), and they have not declined that booking. Calls
start on the half-hour grid, so two calls clash exactly when they share a start.

Objective, lexicographic: first the most calls matched, then the best total of
`score(call, volunteer)` (continuity 100, then 10 per shared interest) minus a convex load cost
(a volunteer's k-th call of a week, counting the calls already held, costs 3k), so work is spread.

Model. Every constraint on a call lives in the call's local week, so each week is solved on its
own. Within a week it is a min-cost flow, every arc of capacity 1:

    source -> call -> (volunteer, slot) -> volunteer -> k-th seat of the week -> sink

the call -> (volunteer, slot) arcs carrying the score, the seat arcs the rising load cost (convex,
so the cheap seats fill first). Lexicographic in two exact phases (a big-M weight on the count
would have to grow with the number of calls, and it slows HiGHS badly):

1. The most calls matched: scipy.sparse.csgraph.maximum_flow on that network (integers).
2. The best total among matchings of that size: a linear program over the pairs x and seats y,

       each call:               sum of its x               <= 1
       each (volunteer, slot):  sum of its x               <= 1
       each volunteer:          sum of its x - its y       <= 0
       all pairs:               sum of x                   >= the count from phase 1
       0 <= x, y <= 1;          maximise  sum score x - sum cost y

   solved by HiGHS's dual simplex (scipy.optimize.linprog). The x columns are the incidence of
   two laminar families (calls inside "all pairs"; slots inside volunteers) and the y columns
   have a single entry, so the matrix is totally unimodular: the simplex vertex is integral and
   no branching is needed. The tests check both phases against networkx's max_flow_min_cost.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csc_array, csr_matrix
from scipy.sparse.csgraph import maximum_flow

CALL_MINUTES = 30
CONTINUITY = 100
INTEREST = 10
# At most this many shared interests count, so continuity (100) always outweighs interests.
INTERESTS_COUNTED = 5
LOAD_STEP = 3
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class OpenCall:
    """A booked call slot still waiting for a volunteer."""

    id: int
    starts_at: datetime  # aware, UTC
    reader_id: int
    interests: frozenset[str] = frozenset()
    usual_volunteer: int | None = None  # the reader's volunteer from earlier calls
    declined_by: frozenset[int] = frozenset()  # volunteers never to be offered it again


@dataclass(frozen=True)
class Candidate:
    """An approved volunteer, with what they have said they can do and what they already do."""

    id: int
    windows: tuple[tuple[int, int, int], ...]  # (weekday 0=Mon, start minute, end minute), local
    capacity: int  # calls per week
    load: Mapping[date, int] = field(default_factory=dict)  # calls held, by the local week's Monday
    busy: frozenset[datetime] = frozenset()  # UTC slot starts already taken
    interests: frozenset[str] = frozenset()


def week_of(starts_at: datetime, tz: ZoneInfo) -> date:
    """The Monday of the local week a call falls in: the key of capacity and load."""
    day = starts_at.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def _local_span(starts_at: datetime, tz: ZoneInfo, minutes: int) -> tuple[int, int, int]:
    """(local weekday, first minute, end minute) of the wall-clock readings during a call.

    Minutes count from the local midnight the call starts after. Across a clock change the span
    covers every reading the clock shows during the call: 00:45-02:15 for a call from 00:45 GMT on
    the spring morning (the clock jumps from 01:00 to 02:00), 01:00-02:00 for one from 01:45 BST
    on the autumn morning (01:45 to 02:00, then 01:00 to 01:15 again).
    """
    utc = starts_at.astimezone(UTC)
    start = utc.astimezone(tz)
    end = (utc + timedelta(minutes=minutes)).astimezone(tz)
    if start.utcoffset() == end.utcoffset():
        readings = [start, end - timedelta(minutes=1)]
    else:
        readings = [(utc + timedelta(minutes=k)).astimezone(tz) for k in range(minutes)]
    offsets = [
        (r.date() - start.date()).days * DAY_MINUTES + r.hour * 60 + r.minute for r in readings
    ]
    return start.weekday(), min(offsets), max(offsets) + 1


def _fits(windows: Sequence[tuple[int, int, int]], span: tuple[int, int, int]) -> bool:
    day, begin, end = span
    return any(d == day and lo <= begin and end <= hi for d, lo, hi in windows)


def available(
    candidate: Candidate, starts_at: datetime, tz: ZoneInfo, minutes: int = CALL_MINUTES
) -> bool:
    """Whether the whole call [start, start + minutes) lies inside one of the local windows."""
    return _fits(candidate.windows, _local_span(starts_at, tz, minutes))


def score(call: OpenCall, candidate: Candidate) -> int:
    """What the pairing is worth: the reader's usual volunteer first, then shared interests."""
    shared = min(len(call.interests & candidate.interests), INTERESTS_COUNTED)
    return (CONTINUITY if call.usual_volunteer == candidate.id else 0) + INTEREST * shared


def load_cost(k: int) -> int:
    """Cost of a volunteer's k-th call in a week (counting held ones): rising, so work spreads."""
    return LOAD_STEP * k


def objective(
    assignment: Mapping[int, int],
    calls: Sequence[OpenCall],
    candidates: Sequence[Candidate],
    tz: ZoneInfo,
) -> int:
    """The score part of the objective for an assignment: scores minus the load costs."""
    by_call = {c.id: c for c in calls}
    by_id = {v.id: v for v in candidates}
    total = 0
    per_week: Counter[tuple[int, date]] = Counter()
    for call_id, volunteer_id in assignment.items():
        call, volunteer = by_call[call_id], by_id[volunteer_id]
        total += score(call, volunteer)
        week = week_of(call.starts_at, tz)
        per_week[volunteer_id, week] += 1
        total -= load_cost(volunteer.load.get(week, 0) + per_week[volunteer_id, week])
    return total


@dataclass
class _Pairs:
    """The feasible (call, volunteer) pairs, as parallel lists."""

    call: list[int] = field(default_factory=list)  # index into calls
    volunteer: list[int] = field(default_factory=list)  # index into candidates
    week: list[date] = field(default_factory=list)
    score: list[int] = field(default_factory=list)


def _pairs(calls: Sequence[OpenCall], candidates: Sequence[Candidate], tz: ZoneInfo) -> _Pairs:
    """Every pair allowed by availability, busy slots, room in the week and declines.

    Work is done once per distinct start and volunteer (a few hundred starts), not per call.
    """
    by_start: dict[datetime, list[int]] = defaultdict(list)
    for i, call in enumerate(calls):
        by_start[call.starts_at].append(i)
    by_day: list[dict[int, list[tuple[int, int]]]] = []
    for volunteer in candidates:
        days: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for d, lo, hi in volunteer.windows:
            days[d].append((lo, hi))
        by_day.append(days)
    pairs = _Pairs()
    for start, group in by_start.items():
        day, begin, end = _local_span(start, tz, CALL_MINUTES)
        week = week_of(start, tz)
        for j, volunteer in enumerate(candidates):
            spans = by_day[j].get(day)
            if not spans or not any(lo <= begin and end <= hi for lo, hi in spans):
                continue
            if start in volunteer.busy or volunteer.capacity <= volunteer.load.get(week, 0):
                continue
            for i in group:
                call = calls[i]
                if volunteer.id in call.declined_by:
                    continue
                pairs.call.append(i)
                pairs.volunteer.append(j)
                pairs.week.append(week)
                pairs.score.append(score(call, volunteer))
    return pairs


def match(
    calls: Sequence[OpenCall], candidates: Sequence[Candidate], tz: ZoneInfo
) -> dict[int, int]:
    """Assign open calls to volunteers: most calls matched, then the best total (see module doc).

    Returns call id -> volunteer id for the matched calls; the rest stay open.
    """
    pairs = _pairs(calls, candidates, tz)
    by_week: dict[date, list[int]] = defaultdict(list)
    for e, week in enumerate(pairs.week):
        by_week[week].append(e)
    assignment: dict[int, int] = {}
    for chosen in by_week.values():
        for e in _solve_week(chosen, pairs, calls, candidates):
            assignment[calls[pairs.call[e]].id] = candidates[pairs.volunteer[e]].id
    return assignment


def _solve_week(
    edges: list[int], pairs: _Pairs, calls: Sequence[OpenCall], candidates: Sequence[Candidate]
) -> list[int]:
    """The chosen pairs among `edges`, which all fall in one local week (model: module doc)."""
    week = pairs.week[edges[0]]
    call_ix: dict[int, int] = {}
    slot_ix: dict[tuple[int, datetime], int] = {}
    vol_ix: dict[int, int] = {}
    call_list, slot_list, vol_list = [], [], []
    for e in edges:
        i, j = pairs.call[e], pairs.volunteer[e]
        call_list.append(call_ix.setdefault(i, len(call_ix)))
        slot_list.append(slot_ix.setdefault((j, calls[i].starts_at), len(slot_ix)))
        vol_list.append(vol_ix.setdefault(j, len(vol_ix)))
    call_of, slot_of, vol_of = np.array(call_list), np.array(slot_list), np.array(vol_list)
    n, n_calls, n_slots, n_vols = len(edges), len(call_ix), len(slot_ix), len(vol_ix)
    slot_vol = np.zeros(n_slots, dtype=np.int64)
    slot_vol[slot_of] = vol_of
    held = np.array([candidates[j].load.get(week, 0) for j in vol_ix])
    capacity = np.array([candidates[j].capacity for j in vol_ix])
    # Room in the week: capacity less the calls held, and no more than the distinct slots offered.
    room = np.minimum(capacity - held, np.bincount(slot_vol, minlength=n_vols))

    # Phase 1: the most calls that can be matched, a maximum flow through
    # source -> call -> (volunteer, slot) -> volunteer -> sink.
    at_call, at_slot, at_vol = 1, 1 + n_calls, 1 + n_calls + n_slots
    sink = at_vol + n_vols
    tails = np.r_[
        np.zeros(n_calls),
        at_call + call_of,
        at_slot + np.arange(n_slots),
        at_vol + np.arange(n_vols),
    ]
    heads = np.r_[
        at_call + np.arange(n_calls), at_slot + slot_of, at_vol + slot_vol, np.full(n_vols, sink)
    ]
    caps = np.r_[np.ones(n_calls + n + n_slots), room]
    graph = csr_matrix(
        (caps.astype(np.int32), (tails.astype(np.int32), heads.astype(np.int32))),
        shape=(sink + 1, sink + 1),
    )
    most = maximum_flow(graph, 0, sink).flow_value
    if most == 0:
        return []

    # Phase 2: the best total among matchings of that size, a linear program over the pairs x
    # and each volunteer's seats y (the k-th seat of the week costs load_cost(held + k)).
    seat_vol = np.repeat(np.arange(n_vols), room)
    seat_k = np.arange(len(seat_vol)) - np.repeat(np.cumsum(room) - room, room) + 1
    seat_cost = [load_cost(int(k)) for k in held[seat_vol] + seat_k]
    m = len(seat_vol)
    row_slot, row_vol, row_count = n_calls, n_calls + n_slots, n_calls + n_slots + n_vols
    x = np.arange(n)
    rows = np.r_[
        call_of, row_slot + slot_of, row_vol + vol_of, np.full(n, row_count), row_vol + seat_vol
    ]
    cols = np.r_[x, x, x, x, n + np.arange(m)]
    values = np.r_[np.ones(3 * n), -np.ones(n + m)]
    a = csc_array((values, (rows, cols)), shape=(row_count + 1, n + m))
    b = np.r_[np.ones(n_calls + n_slots), np.zeros(n_vols), -most]
    c = np.r_[[-pairs.score[e] for e in edges], seat_cost].astype(float)
    result = linprog(c, A_ub=a, b_ub=b, bounds=(0, 1), method="highs-ds")
    if result.status != 0:
        raise RuntimeError(f"matching solver failed: {result.message}")
    chosen = result.x[:n]
    if np.abs(chosen - np.round(chosen)).max() > 1e-6:  # cannot happen: the matrix is TU
        raise RuntimeError("matching solver returned a fractional solution")
    return [edges[k] for k in np.flatnonzero(chosen > 0.5)]


def greedy(
    calls: Sequence[OpenCall], candidates: Sequence[Candidate], tz: ZoneInfo
) -> dict[int, int]:
    """First-come baseline for the benchmark: calls in start order, each to the best free pair."""
    pairs = _pairs(calls, candidates, tz)
    options: dict[int, list[int]] = defaultdict(list)
    for e, i in enumerate(pairs.call):
        options[i].append(e)
    taken_slots: set[tuple[int, datetime]] = set()
    taken: Counter[tuple[int, date]] = Counter()
    assignment: dict[int, int] = {}
    for i in sorted(range(len(calls)), key=lambda i: (calls[i].starts_at, calls[i].id)):
        best: tuple[int, int] | None = None  # (value, pair)
        for e in options[i]:
            j, week = pairs.volunteer[e], pairs.week[e]
            held = candidates[j].load.get(week, 0) + taken[j, week]
            if (j, calls[i].starts_at) in taken_slots or held >= candidates[j].capacity:
                continue
            value = pairs.score[e] - load_cost(held + 1)
            if best is None or value > best[0]:
                best = (value, e)
        if best is not None:
            j, week = pairs.volunteer[best[1]], pairs.week[best[1]]
            taken_slots.add((j, calls[i].starts_at))
            taken[j, week] += 1
            assignment[calls[i].id] = candidates[j].id
    return assignment
