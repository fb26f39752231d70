"""The `factvault` command as a user runs it: a real process, real stores."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.models.bundled import BUNDLED
from tests.fixtures import REPO

pytestmark = pytest.mark.slow


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
    # On a pipe the report is plain lines: no box drawing, no markup, no wrapping.
    assert "unchanged\t5\n" in second.stdout and "│" not in second.stdout

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


def test_contexts_export_import_round_trip(tmp_path: Path) -> None:
    """The shipped context file goes into a fresh SQL cache and comes back out line for line;
    --model keeps one model's rows; a corrupt file is refused naming the file and line."""
    shipped = REPO / "bench" / "contexts" / "codebase_chunks.jsonl.gz"
    data = tmp_path / "data"
    refused = run(["contexts", "export", str(tmp_path / "x.gz")], data)
    assert refused.returncode == 2 and "factvault db upgrade" in refused.stderr
    assert run(["db", "upgrade"], data).returncode == 0

    lines = gzip.decompress(shipped.read_bytes()).decode().splitlines()
    imported = run(["contexts", "import", str(shipped)], data)
    assert imported.returncode == 0 and f"{len(lines)} context(s) imported" in imported.stdout

    everything = tmp_path / "all.jsonl.gz"
    assert run(["contexts", "export", str(everything)], data).returncode == 0
    assert gzip.decompress(everything.read_bytes()).decode().splitlines() == lines

    one = tmp_path / "one.jsonl.gz"
    model = "qwen2.5-coder-0.5b"
    assert run(["contexts", "export", str(one), "--model", model], data).returncode == 0
    pinned = BUNDLED[model].sha256
    expected = [ln for ln in lines if json.loads(ln)["model_sha256"] == pinned]
    assert expected and len(expected) < len(lines)
    assert gzip.decompress(one.read_bytes()).decode().splitlines() == expected

    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(b'{"document_sha256": "a"}\n'))
    bad = run(["contexts", "import", str(broken)], data)
    assert bad.returncode == 2 and f"{broken}:1" in bad.stderr


def test_backup_and_restore_through_the_cli(tmp_path: Path, corpus: Path) -> None:
    """A backup taken by the command restores onto a fresh data dir that retrieves the same;
    a second backup into the same folder, and a restore onto used stores, are refused."""
    data, other = tmp_path / "data", tmp_path / "restored"
    assert run(["db", "upgrade"], data).returncode == 0
    assert run(["ingest", str(corpus)], data).returncode == 0
    question = ["retrieve", "Where is the fire assembly point?", "-k", "2"]
    before = run(question, data).stdout

    made = run(["backup", str(tmp_path / "bk")], data)
    assert made.returncode == 0 and "backup written to" in made.stdout, made.stderr
    again = run(["backup", str(tmp_path / "bk")], data)
    assert again.returncode == 2 and "not empty" in again.stderr

    restored = run(["restore", str(tmp_path / "bk")], other)
    assert restored.returncode == 0 and "restored" in restored.stdout, restored.stderr
    assert run(question, other).stdout == before
    assert run(["restore", str(tmp_path / "bk")], other).returncode == 2  # not fresh any more


def test_conversations_purge(tmp_path: Path) -> None:
    from datetime import timedelta

    from app.core.conversations import ConversationStore
    from app.core.db import Conversation, Database, utcnow

    data = tmp_path / "data"
    assert run(["db", "upgrade"], data).returncode == 0
    db = Database(f"sqlite:///{data / 'factvault.db'}")
    store = ConversationStore(db)
    old, new = store.create(None).id, store.create(None).id
    with db.session() as s:
        s.get(Conversation, old).updated_at = utcnow() - timedelta(days=10)
    refused = run(["conversations", "purge"], data)  # no age given, no retention set
    assert refused.returncode != 0 and "--older-than-days" in refused.stderr
    done = run(["conversations", "purge", "--older-than-days", "7"], data)
    assert done.returncode == 0, done.stderr
    assert "deleted 1 conversations" in done.stdout
    assert store.get(None, old) is None and store.get(None, new) is not None
    db.dispose()


def test_collections_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = tmp_path / "hr"
    folder.mkdir()
    (folder / "bands.md").write_text("# Bands\n\nBand C starts at 52,000.\n")
    assert run(["db", "upgrade"], data).returncode == 0
    bad = run(["ingest", str(folder), "--collection", "no spaces"], data)
    assert bad.returncode != 0 and "--collection" in bad.stderr
    done = run(["ingest", str(folder), "--collection", "hr"], data)
    assert done.returncode == 0, done.stderr
    listed = run(["docs", "list"], data).stdout
    assert "\thr\t" in listed
    key = run(["keys", "create", "--name", "hr-reader", "--collections", "hr,eng"], data)
    assert key.returncode == 0 and key.stdout.strip().startswith("fv_")
    assert "eng,hr" in run(["keys", "list"], data).stdout
    empty = run(["keys", "create", "--collections", ""], data)
    assert empty.returncode != 0 and "at least one" in empty.stderr
