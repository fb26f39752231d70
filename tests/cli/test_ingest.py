"""`factvault ingest` and `factvault sync` once: folders in, pruned, synced; bad files and
collections refused. Both ways where a service is running (conftest.py); the watcher is in
test_sync_watch.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import Way, run_cli

pytestmark = pytest.mark.slow


def test_folders_are_ingested_pruned_and_synced(way: Way, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "dock.md").write_text("# Dock\n\nDock door 7 takes the frozen goods.\n")
    (folder / "yard.md").write_text("# Yard\n\nThe yard closes at 22:00 on Sundays.\n")

    def counts(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
        return dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)

    first = way.run("ingest", str(folder), "--collection", "notes")
    assert first.returncode == 0, first.stderr
    assert counts(first)["new"] == "2" and counts(first)["chunks written"] != "0"
    again = way.run("ingest", str(folder), "--collection", "notes")
    assert counts(again)["unchanged"] == "2" and counts(again)["new"] == "0"
    listed = way.run("docs", "list").stdout  # stored under their paths, whichever way
    assert f"{(folder / 'dock.md').resolve().as_posix()}\tnotes" in listed, listed

    (folder / "yard.md").unlink()
    pruned = way.run("ingest", str(folder), "--collection", "notes", "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert counts(pruned)["pruned"] == "1"

    (folder / "gate.md").write_text("# Gate\n\nGate B opens at 05:30.\n")
    synced = way.run("sync", str(folder), "--collection", "notes")
    assert synced.returncode == 0, synced.stderr
    assert f"+ {(folder / 'gate.md').resolve().as_posix()}" in synced.stdout
    assert "synced: new 1, changed 0, forgotten 0, unchanged 1, failed 0" in synced.stdout

    bad = way.run("ingest", str(folder), "--collection", "no spaces")
    assert bad.returncode == 2 and "--collection" in bad.stderr


def test_cli_round_trip(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "data"
    not_migrated = run_cli(["docs", "list"], data)
    assert not_migrated.returncode == 2 and "factvault db upgrade" in not_migrated.stderr

    assert run_cli(["db", "upgrade"], data).returncode == 0
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")

    first = run_cli(["ingest", str(corpus)], data)
    assert first.returncode == 1  # one file failed ...
    assert f"{corpus / 'corrupt.pdf'}: corrupt or unreadable PDF" in first.stderr
    assert "1 file(s) failed" in first.stderr
    assert "new" in first.stdout and "chunks/s" in first.stdout  # ... the others went in

    (corpus / "corrupt.pdf").unlink()
    second = run_cli(["ingest", str(corpus), "--prune"], data)
    assert second.returncode == 0, second.stderr
    # On a pipe the report is plain lines: no box drawing, no markup, no wrapping.
    assert "unchanged\t5\n" in second.stdout and "│" not in second.stdout

    listing = run_cli(["docs", "list"], data)
    assert "5 document(s)" in listing.stdout and "employee-handbook.md" in listing.stdout

    answer = run_cli(["retrieve", "Where is the fire assembly point?", "-k", "2"], data)
    assert answer.returncode == 0, answer.stderr
    assert "north car park" in answer.stdout

    removed = run_cli(["docs", "rm", "1", "999"], data)
    assert "removed 1 document(s)" in removed.stdout and removed.returncode == 1
    assert "4 document(s)" in run_cli(["docs", "list"], data).stdout


def test_collections_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = tmp_path / "hr"
    folder.mkdir()
    (folder / "bands.md").write_text("# Bands\n\nBand C starts at 52,000.\n")
    assert run_cli(["db", "upgrade"], data).returncode == 0
    bad = run_cli(["ingest", str(folder), "--collection", "no spaces"], data)
    assert bad.returncode != 0 and "--collection" in bad.stderr
    done = run_cli(["ingest", str(folder), "--collection", "hr"], data)
    assert done.returncode == 0, done.stderr
    listed = run_cli(["docs", "list"], data).stdout
    assert "\thr\t" in listed
    key = run_cli(["keys", "create", "--name", "hr-reader", "--collections", "hr,eng"], data)
    assert key.returncode == 0 and key.stdout.strip().startswith("fv_")
    assert "eng,hr" in run_cli(["keys", "list"], data).stdout
    empty = run_cli(["keys", "create", "--collections", ""], data)
    assert empty.returncode != 0 and "at least one" in empty.stderr
