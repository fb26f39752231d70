"""`factvault retrieve`: chunks without a model, both ways (conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import Way, run_cli

pytestmark = pytest.mark.slow


def test_chunks_are_retrieved_without_a_model(way: Way) -> None:
    found = way.run("retrieve", "fire assembly point", "-k", "2", "--mode", "sparse")
    assert found.returncode == 0, found.stderr
    headings = re.findall(r"^\[(\d)\] score [\d.]+  (\S+)  chars \d+-\d+", found.stdout, re.M)
    assert [n for n, _ in headings] == ["1", "2"], found.stdout
    assert "assembly point" in found.stdout.lower()
    nothing = way.run("retrieve", "fire assembly point", "--source-prefix", "/no/such/folder")
    assert nothing.returncode == 0 and "[1]" not in nothing.stdout
    wrong = way.run("retrieve", "fire", "--mode", "fuzzy", local=True)  # refused first
    assert wrong.returncode == 2 and "--mode" in wrong.stderr


def test_retrieve_before_ingest_is_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_cli(["db", "upgrade"], data)
    out = run_cli(["retrieve", "anything"], data)
    assert out.returncode == 2 and "run `factvault ingest PATH` first" in out.stderr
