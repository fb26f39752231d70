"""The `factvault` command as a user runs it: a real process, real stores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def run(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACTVAULT_DATA_DIR": str(data), "COLUMNS": "400"}
    env.pop("FACTVAULT_DATABASE_URL", None)
    env.pop("FACTVAULT_QDRANT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, cwd=REPO, capture_output=True, text=True
    )


def test_cli_round_trip(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "data"
    not_migrated = run(["docs", "list"], data)
    assert not_migrated.returncode == 2 and "factvault db upgrade" in not_migrated.stderr

    assert run(["db", "upgrade"], data).returncode == 0
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")

    first = run(["ingest", str(corpus)], data)
    assert first.returncode == 1  # one file failed ...
    assert f"{corpus / 'corrupt.pdf'}: corrupt or unreadable PDF" in first.stderr
    assert "1 file(s) failed" in first.stderr
    assert "new" in first.stdout and "chunks/s" in first.stdout  # ... the others went in

    (corpus / "corrupt.pdf").unlink()
    second = run(["ingest", str(corpus), "--prune"], data)
    assert second.returncode == 0, second.stderr
    assert "│ unchanged      │     5 │" in second.stdout

    listing = run(["docs", "list"], data)
    assert "5 document(s)" in listing.stdout and "employee-handbook.md" in listing.stdout

    answer = run(["retrieve", "Where is the fire assembly point?", "-k", "2"], data)
    assert answer.returncode == 0, answer.stderr
    assert "north car park" in answer.stdout

    removed = run(["docs", "rm", "1", "999"], data)
    assert "removed 1 document(s)" in removed.stdout and removed.returncode == 1
    assert "4 document(s)" in run(["docs", "list"], data).stdout


def test_retrieve_before_ingest_is_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(["db", "upgrade"], data)
    out = run(["retrieve", "anything"], data)
    assert out.returncode == 2 and "run `factvault ingest PATH` first" in out.stderr
