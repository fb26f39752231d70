"""The schema comes only from Alembic: migrated databases must match the models exactly."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.core.db import Base, make_engine
from app.core.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    is_up_to_date,
    upgrade,
)

PG_URL = os.environ.get("FACTVAULT_TEST_POSTGRES_URL")


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


@pytest.fixture
def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("FACTVAULT_TEST_POSTGRES_URL is not set: no PostgreSQL server to test on")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"fv_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a configured server that does not answer is a failure
        admin.dispose()
        raise AssertionError(f"PostgreSQL at {PG_URL} is configured but unusable: {exc}") from exc
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_models(pg_database: str) -> None:
    check_round_trip(pg_database)


@pytest.mark.slow
def test_a_plain_install_ships_the_migrations_and_migrates(tmp_path: Path) -> None:
    """Not editable: the distribution itself carries the revisions (run outside the checkout,
    so nothing can come from it)."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
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
