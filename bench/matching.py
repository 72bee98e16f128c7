"""Reading Friends matching benchmark: match() against a greedy first-come baseline.

    python bench/matching.py                  # 2,000 open bookings, 500 volunteers
    python bench/matching.py --verify         # also solve with networkx (slow) and compare
    python bench/matching.py --calls 500 --volunteers 120 --seed 7

Builds a seeded random fortnight of open call bookings (daytime 30-minute slots in
Europe/London, from Monday 23 March 2026, so the spring clock change falls inside) and
volunteers with realistic weekly windows (2-4 windows of 1.5-3 hours, mostly on weekdays,
capacity 1-5 calls a week, some calls already held this week and some slots already busy), a few
interests each, usual-volunteer links for some readers and a few declined offers. Then runs
match() and greedy() in the same run and prints the time to match (target under 2 s), the number
matched as a share of the maximum possible (match() is optimal, so its count is the maximum;
target 1.0) and the same for greedy. --verify checks match()'s count and total against networkx's
max-flow-min-cost on the same instance.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from datetime import time as wall_time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.clock import at_local  # noqa: E402
from bot.services.matching import (  # noqa: E402
    Candidate,
    OpenCall,
    greedy,
    match,
    objective,
    week_of,
)

TZ = ZoneInfo("Europe/London")
FIRST_DAY = date(2026, 3, 23)  # a Monday; British Summer Time starts on Sunday 29 March
DAYS = 14
TIME_TARGET = 2.0
SHARE_TARGET = 1.0
INTERESTS = (
    "crime",
    "history",
    "local history",
    "gardening",
    "poetry",
    "romance",
    "science fiction",
    "biography",
    "travel",
    "nature",
    "cooking",
    "football",
    "cricket",
    "music",
    "crafts",
    "classics",
    "war stories",
    "faith",
    "film",
    "family sagas",
)


def build(n_calls: int, n_volunteers: int, seed: int) -> tuple[list[OpenCall], list[Candidate]]:
    """A seeded instance: readers with a few bookings each, volunteers with weekly windows."""
    rng = random.Random(seed)
    volunteers = []
    this_week = FIRST_DAY
    for v in range(1, n_volunteers + 1):
        windows = []
        for _ in range(rng.randint(2, 4)):
            day = rng.randrange(5) if rng.random() < 0.8 else rng.choice((5, 6))
            start = rng.randrange(9 * 60, 16 * 60 + 1, 30)
            length = rng.choice((90, 120, 150, 180))
            windows.append((day, start, min(start + length, 19 * 60)))
        # Most volunteers take one or two calls a week; a few take up to five.
        capacity = rng.choices((1, 2, 3, 4, 5), (35, 30, 20, 10, 5))[0]
        load = {this_week: rng.randrange(capacity)} if rng.random() < 0.3 else {}
        busy = set()
        for day, start, end in windows:
            if rng.random() < 0.2:
                minute = rng.randrange(start, end - 29, 30)
                when = FIRST_DAY + timedelta(days=day)
                busy.add(at_local(when, _wall(minute), TZ))
        volunteers.append(
            Candidate(
                id=v,
                windows=tuple(windows),
                capacity=capacity,
                load=load,
                busy=frozenset(busy),
                interests=frozenset(rng.sample(INTERESTS, rng.randint(1, 4))),
            )
        )

    # Daytime slots 9:30am-5pm, busier mid-morning and early afternoon, fewer at weekends.
    starts = range(9 * 60 + 30, 17 * 60 + 1, 30)
    slot_weights = [3 if 600 <= m <= 720 or 840 <= m <= 930 else 1 for m in starts]
    days = [FIRST_DAY + timedelta(days=d) for d in range(DAYS)]
    day_weights = [1 if d.weekday() >= 5 else 3 for d in days]
    calls: list[OpenCall] = []
    reader = 0
    while len(calls) < n_calls:
        reader += 1
        interests = frozenset(rng.sample(INTERESTS, rng.randint(1, 3)))
        usual = rng.randint(1, n_volunteers) if rng.random() < 0.4 else None
        for _ in range(min(rng.randint(1, 4), n_calls - len(calls))):
            day = rng.choices(days, day_weights)[0]
            minute = rng.choices(starts, slot_weights)[0]
            declined = set()
            if rng.random() < 0.05:
                declined.add(usual or rng.randint(1, n_volunteers))
            calls.append(
                OpenCall(
                    id=len(calls) + 1,
                    starts_at=at_local(day, _wall(minute), TZ),
                    reader_id=reader,
                    interests=interests,
                    usual_volunteer=usual,
                    declined_by=frozenset(declined),
                )
            )
    return calls, volunteers


def _wall(minute: int) -> wall_time:
    return wall_time(minute // 60, minute % 60)


def check(assignment: dict[int, int], calls: list[OpenCall], volunteers: list[Candidate]) -> None:
    """Fail loudly if an assignment breaks a rule (slots, capacity, declines)."""
    by_call = {c.id: c for c in calls}
    by_id = {v.id: v for v in volunteers}
    slots = set()
    weeks: dict[tuple[int, date], int] = defaultdict(int)
    for call_id, v in assignment.items():
        call = by_call[call_id]
        assert v not in call.declined_by and call.starts_at not in by_id[v].busy
        assert (v, call.starts_at) not in slots
        slots.add((v, call.starts_at))
        week = week_of(call.starts_at, TZ)
        weeks[v, week] += 1
        assert by_id[v].load.get(week, 0) + weeks[v, week] <= by_id[v].capacity


def reference(calls: list[OpenCall], volunteers: list[Candidate]) -> tuple[int, int]:
    """(count, total) from networkx's max_flow_min_cost on the same flow network."""
    import networkx as nx

    from bot.services.matching import _pairs, load_cost

    pairs = _pairs(calls, volunteers, TZ)
    g = nx.DiGraph()
    for i, j, week, s in zip(pairs.call, pairs.volunteer, pairs.week, pairs.score, strict=True):
        g.add_edge("s", ("c", i), capacity=1, weight=0)
        g.add_edge(("c", i), ("vs", j, calls[i].starts_at), capacity=1, weight=-s)
        g.add_edge(("vs", j, calls[i].starts_at), ("vw", j, week), capacity=1, weight=0)
    for node in [n for n in g if n[0] == "vw"]:
        _, j, week = node
        held = volunteers[j].load.get(week, 0)
        for k in range(1, volunteers[j].capacity - held + 1):
            g.add_edge(node, ("seat", j, week, k), capacity=1, weight=load_cost(held + k))
            g.add_edge(("seat", j, week, k), "t", capacity=1, weight=0)
    flow = nx.max_flow_min_cost(g, "s", "t")
    count = sum(flow["s"].values())
    return count, -nx.cost_of_flow(g, flow)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--volunteers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--verify", action="store_true", help="compare with networkx (slow)")
    args = parser.parse_args()

    calls, volunteers = build(args.calls, args.volunteers, args.seed)
    print(
        f"{len(calls)} open bookings over {DAYS} days, {len(volunteers)} volunteers "
        f"(seed {args.seed})"
    )
    began = time.perf_counter()
    best = match(calls, volunteers, TZ)
    match_s = time.perf_counter() - began
    began = time.perf_counter()
    first_come = greedy(calls, volunteers, TZ)
    greedy_s = time.perf_counter() - began
    check(best, calls, volunteers)
    check(first_come, calls, volunteers)

    most = len(best)
    print(f"match():  {match_s:6.3f} s (target < {TIME_TARGET:g} s)")
    print(f"  matched {len(best)} of {len(calls)}; maximum possible {most}")
    print(f"  share of maximum {len(best) / most:.3f} (target {SHARE_TARGET:g})")
    print(f"  total score {objective(best, calls, volunteers, TZ)}")
    print(f"greedy(): {greedy_s:6.3f} s")
    print(f"  matched {len(first_come)} of {len(calls)}")
    print(f"  share of maximum {len(first_come) / most:.3f}")
    print(f"  total score {objective(first_come, calls, volunteers, TZ)}")
    if args.verify:
        began = time.perf_counter()
        count, total = reference(calls, volunteers)
        print(
            f"networkx reference: matched {count}, total {total} "
            f"({time.perf_counter() - began:.1f} s)"
        )
        same = count == most and total == objective(best, calls, volunteers, TZ)
        print("  agrees with match()" if same else "  DISAGREES with match()")
    ok = match_s < TIME_TARGET and len(best) / most >= SHARE_TARGET
    print("targets met" if ok else "targets NOT met")


if __name__ == "__main__":
    main()
