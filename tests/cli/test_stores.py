"""What needs the stores to itself: `backup`, `restore`, `eval --self`, `tune embedder`;
refused beside a running server (conftest.py), done without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Way, run_cli

pytestmark = pytest.mark.slow


def test_what_needs_the_stores_to_itself_says_so(way: Way, tmp_path: Path) -> None:
    backup = way.run("backup", str(tmp_path / "backup"))
    restore = way.run("restore", str(tmp_path / "backup"))
    scored = way.run("eval", "--self")
    trained = way.run("tune", "embedder")
    assert scored.returncode == trained.returncode == restore.returncode == 2
    if way.name == "server":
        assert backup.returncode == 2 and "stop it first" in backup.stderr
        assert "stop it before restoring" in restore.stderr
        assert "stop it first" in scored.stderr and "stop it first" in trained.stderr
        assert not (tmp_path / "backup").exists()
    else:
        assert backup.returncode == 0 and "backup written to" in backup.stdout, backup.stderr
        assert restore.stderr.startswith("error: ")  # not onto a data dir in use
        assert "no synthetic questions" in scored.stderr  # it opened them: nothing to score
        assert "no synthetic questions" in trained.stderr


def test_backup_and_restore_through_the_cli(tmp_path: Path, corpus: Path) -> None:
    """A backup taken by the command restores onto a fresh data dir that retrieves the same;
    a second backup into the same folder, and a restore onto used stores, are refused."""
    data, other = tmp_path / "data", tmp_path / "restored"
    assert run_cli(["db", "upgrade"], data).returncode == 0
    assert run_cli(["ingest", str(corpus)], data).returncode == 0
    question = ["retrieve", "Where is the fire assembly point?", "-k", "2"]
    before = run_cli(question, data).stdout

    made = run_cli(["backup", str(tmp_path / "bk")], data)
    assert made.returncode == 0 and "backup written to" in made.stdout, made.stderr
    again = run_cli(["backup", str(tmp_path / "bk")], data)
    assert again.returncode == 2 and "not empty" in again.stderr

    restored = run_cli(["restore", str(tmp_path / "bk")], other)
    assert restored.returncode == 0 and "restored" in restored.stdout, restored.stderr
    assert run_cli(question, other).stdout == before
    assert run_cli(["restore", str(tmp_path / "bk")], other).returncode == 2  # not fresh any more
