"""`factvault docs list` and `docs rm`, both ways (conftest.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import Way

pytestmark = pytest.mark.slow


def test_documents_are_listed_and_removed(way: Way, tmp_path: Path) -> None:
    folder = tmp_path / "scratch"
    folder.mkdir()
    (folder / "memo.md").write_text("# Memo\n\nThe canteen opens at 11:30.\n")
    assert way.run("ingest", str(folder), "--collection", "scratch").returncode == 0

    def count(listing: subprocess.CompletedProcess[str]) -> int:
        found = re.search(r"^(\d+) document\(s\)", listing.stdout, re.M)
        assert found, listing.stdout
        return int(found[1])

    listing = way.run("docs", "list")
    assert listing.returncode == 0, listing.stderr
    assert "employee-handbook.md" in listing.stdout  # the samples
    memo = re.search(r"^(\d+)\t\S*/scratch/memo\.md\tscratch\t", listing.stdout, re.M)
    assert memo, listing.stdout

    removed = way.run("docs", "rm", memo[1], "999999")
    assert removed.returncode == 1, removed.stderr  # one of the two was not there
    assert "removed 1 document(s)" in removed.stdout
    assert "1 id(s) not found: 999999" in removed.stderr
    receipt = rf"^{memo[1]}\t\S*/scratch/memo\.md\tsha256 [0-9a-f]{{64}}\tchunks [1-9]"
    assert re.search(receipt, removed.stdout, re.M), removed.stdout
    after = way.run("docs", "list")
    assert count(after) == count(listing) - 1 and "memo.md" not in after.stdout
