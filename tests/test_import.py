"""`cuppa-bot import-sessions`: every bad row reported by line, and all or nothing imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.db.models import LibrarySession, SessionSeries
from tests.world import build_world, count

GOOD = """activity,library,date,time,duration_minutes,capacity,join_link,notes,weekly_until
Just a Cuppa,Dereham Library,2026-12-01,10:30,90,12,,Step-free,
Knit and Natter,Dereham,03/12/2026,14:00,,8,,,
Colour Me Calm,Online,2026-12-02,11:00,60,20,https://meet.example.org/colour,,2026-12-23
"""

BAD = """activity,library,date,time,capacity,join_link
Just a Cuppa,Dereham Library,2026-12-01,10:30,12,
Juggling,Dereham Library,2026-12-01,10:30,12,
Just a Cuppa,Atlantis Library,2026-12-01,10:30,12,
Just a Cuppa,Dereham Library,31/31/2026,10:30,12,
Just a Cuppa,Dereham Library,2026-12-01,25:99,12,
Just a Cuppa,Dereham Library,2026-12-01,10:30,lots,
Just a Cuppa,Online,2026-12-01,10:30,12,
Just a Cuppa,Dereham Library,2020-01-01,10:30,12,
"""


@pytest.fixture
async def world(services, clock):  # type: ignore[no-untyped-def]
    return await build_world(services.db, clock())


async def test_a_good_file_imports_every_row(world, services):
    plans, problems = await services.importer.check(GOOD)
    assert problems == []
    before = await count(services.db, LibrarySession)
    assert await services.importer.load(plans, lambda step: None) == 3
    # Two one-offs, and the weekly series' sittings inside the 28-day horizon (2, 9, 16 Dec);
    # the last, on 23 Dec, is made by the hourly job once it comes within the horizon.
    assert await count(services.db, LibrarySession) == before + 2 + 3
    assert await count(services.db, SessionSeries) == 1


async def test_every_bad_row_is_reported_with_its_line_and_nothing_imported(world, services):
    plans, problems = await services.importer.check(BAD)
    reported = {problem.line: problem.message for problem in problems}
    assert sorted(reported) == [3, 4, 5, 6, 7, 8, 9]
    assert reported[3] == "unknown activity 'Juggling'"
    assert reported[4] == "unknown library 'Atlantis Library'"
    assert "not a date" in reported[5]
    assert "not a time" in reported[6]
    assert reported[7] == "capacity should be a whole number, not 'lots'"
    assert "join link" in reported[8]
    assert "already passed" in reported[9]
    assert len(plans) == 1


async def test_header_without_the_required_columns(world, services):
    _, problems = await services.importer.check("activity,when\nJust a Cuppa,tomorrow\n")
    assert problems[0].line == 1
    assert "the header needs activity, library, date, time" in problems[0].message
    assert "unknown columns: when" in problems[0].message


def run_import(tmp_path: Path, csv_text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sessions.csv").write_text(csv_text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUPPA_")}
    env["CUPPA_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    script = "from bot.cli import main; main()"
    subprocess.run(
        [sys.executable, "-c", script, "seed-demo"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    return subprocess.run(
        [sys.executable, "-c", script, "import-sessions", "sessions.csv"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def future_rows(text: str) -> str:
    """The sample files use December 2026; the command line runs on the real clock."""
    return text.replace("2026-12-", "2099-12-").replace("/12/2026", "/12/2099")


def test_command_line_import(tmp_path):
    result = run_import(tmp_path, future_rows(GOOD).replace("2099-12-23", "2099-12-23"))
    assert result.returncode == 0, result.stderr
    assert "Imported 3 session(s)." in result.stdout


def test_command_line_refuses_a_bad_file_whole(tmp_path):
    result = run_import(tmp_path, future_rows(BAD))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "sessions.csv: line 3: unknown activity 'Juggling'"
    assert lines[-1] == "Nothing was imported: 7 row(s) need correcting."
    assert "Traceback" not in result.stderr
