"""The schema comes only from Alembic: migrated databases must match the models exactly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.core.db import Base, make_engine
from app.core.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    is_up_to_date,
    upgrade,
)
from tests.fixtures import REPO


def schema_diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()


def check_round_trip(url: str) -> None:
    assert current_revision(url) is None
    upgrade(url)
    assert is_up_to_date(url)
    assert current_revision(url) == head_revision(url)
    assert schema_diff(url) == []
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(url)
    assert schema_diff(url) == []


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    check_round_trip(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_models(pg_database: str) -> None:
    check_round_trip(pg_database)


@pytest.mark.slow
def test_a_plain_install_ships_the_migrations_and_migrates(tmp_path: Path) -> None:
    """Not editable: the distribution itself carries the revisions (run outside the checkout,
    so nothing can come from it)."""
    import subprocess
    import sys

    repo = REPO
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(target), str(repo)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    db = tmp_path / "plain.db"
    script = (
        "import app.core.migrate as m, sys; "
        "assert m.MIGRATIONS.is_relative_to(sys.argv[1]), m.MIGRATIONS; "
        f"m.upgrade('sqlite:///{db}'); print(m.current_revision('sqlite:///{db}'))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(target)], env=env, cwd=tmp_path,
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == head_revision(f"sqlite:///{db}")


def check_rows_survive(url: str) -> None:
    """Rows written under the first schema are all there after every later migration: a
    migration that rebuilds ``documents`` (SQLite batch mode) must not cascade into the
    chunks that point at it."""
    upgrade(url, "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO documents (id, source, sha256, title, media_type, size_bytes, "
                    "status, chunk_count, created_at, updated_at) VALUES (1, 'a.md', 'ab', "
                    "'A', 'text/markdown', 10, 'active', 1, :t, :t)"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO chunks (id, document_id, ordinal, text, context, token_count, "
                    "sha256, char_start, char_end) VALUES ('c1', 1, 0, 'x', '', 1, 'cd', 0, 1)"
                )
            )
        upgrade(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM chunks")).scalar() == 1
            row = conn.execute(text("SELECT collection, parent_id FROM documents")).one()
            assert tuple(row) == ("default", None)
            if conn.dialect.name == "sqlite":  # on again for the application's connections
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_migrations_keep_every_row(tmp_path: Path) -> None:
    check_rows_survive(f"sqlite:///{tmp_path / 'rows.db'}")


@pytest.mark.postgres
def test_postgres_migrations_keep_every_row(pg_database: str) -> None:
    check_rows_survive(pg_database)
