"""Rules of the layout that must not erode: no Telegram below the handlers, schema = migrations."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from bot.config import load_config
from bot.db.models import Base

ROOT = Path(__file__).resolve().parent.parent
# The Telegram adapter is the one place outside handlers/ allowed to know Telegram.
ADAPTER = ROOT / "bot" / "telegram"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_nothing_below_handlers_imports_telegram():
    offenders = []
    for folder in ("bot", "scheduling"):
        for path in (ROOT / folder).rglob("*.py"):
            if ADAPTER in path.parents:
                continue
            modules = imported_modules(path)
            if any(m == "telegram" or m.startswith(("telegram.", "handlers")) for m in modules):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"Telegram or handler imports in the domain: {offenders}"


def test_the_check_above_would_catch_an_offender(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from telegram import Bot\nimport os\n")
    assert "telegram" in imported_modules(sample)


def test_migrations_create_exactly_the_models(tmp_path):
    """A fresh database migrated to head has every table, column and index the models have."""
    import asyncio

    from bot.db.database import Database

    path = tmp_path / "migrated.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    asyncio.run(db.upgrade())
    asyncio.run(db.dispose())
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_example_config_documents_every_key_and_loads():
    example = ROOT / "config.example.toml"
    config = load_config(example, env={})
    text = example.read_text(encoding="utf-8")
    for section in config.__dataclass_fields__:
        assert f"[{section}]" in text
        for key in getattr(config, section).__dataclass_fields__:
            assert f"\n{key} = " in text, f"{section}.{key} is not in config.example.toml"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest"
    assert command in readme
    assert command in ci
