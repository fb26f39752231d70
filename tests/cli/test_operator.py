"""The operator's SQL-only commands: `keys`, `contexts`, `tune export`, `db upgrade`,
`conversations purge`. They work the same beside a running server (conftest.py)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from app.models.bundled import BUNDLED
from tests.cli.conftest import Way, run_cli
from tests.fixtures import REPO

pytestmark = pytest.mark.slow


def test_local_commands_work_beside_either(way: Way, tmp_path: Path) -> None:
    made = way.run("keys", "create", "--scope", "read", "--name", "ops", local=True)
    assert made.returncode == 0 and made.stdout.startswith("fv_"), made.stderr
    listed = way.run("keys", "list", local=True)
    row = next(line.split("\t") for line in listed.stdout.splitlines() if "\tops\t" in line)
    revoked = way.run("keys", "revoke", row[0], local=True)
    assert revoked.returncode == 0 and f"revoked key {row[0]} (ops," in revoked.stdout
    unknown = way.run("keys", "revoke", "fv_nosuchkey", local=True)
    assert unknown.returncode == 2 and "no key match" in unknown.stderr
    bad_scope = way.run("keys", "create", "--scope", "root", local=True)
    assert bad_scope.returncode == 2 and "--scope" in bad_scope.stderr

    exported = way.run("contexts", "export", str(tmp_path / "c.jsonl.gz"), local=True)
    assert exported.returncode == 0 and "context(s) written" in exported.stdout
    missing = way.run("contexts", "import", str(tmp_path / "none.jsonl.gz"), local=True)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    questions = way.run("tune", "export", str(tmp_path / "q.jsonl.gz"), local=True)
    assert questions.returncode == 0 and "0 chunk(s) of questions written" in questions.stdout
    schema = way.run("db", "upgrade", local=True)
    assert schema.returncode == 0 and schema.stdout.startswith("database at revision ")
    purged = way.run("conversations", "purge", "--older-than-days", "30", local=True)
    assert purged.returncode == 0 and re.fullmatch(r"deleted \d+ conversations\n", purged.stdout)


def test_contexts_export_import_round_trip(tmp_path: Path) -> None:
    """The shipped context file goes into a fresh SQL cache and comes back out line for line;
    --model keeps one model's rows; a corrupt file is refused naming the file and line."""
    shipped = REPO / "bench" / "contexts" / "codebase_chunks.jsonl.gz"
    data = tmp_path / "data"
    refused = run_cli(["contexts", "export", str(tmp_path / "x.gz")], data)
    assert refused.returncode == 2 and "factvault db upgrade" in refused.stderr
    assert run_cli(["db", "upgrade"], data).returncode == 0

    lines = gzip.decompress(shipped.read_bytes()).decode().splitlines()
    imported = run_cli(["contexts", "import", str(shipped)], data)
    assert imported.returncode == 0 and f"{len(lines)} context(s) imported" in imported.stdout

    everything = tmp_path / "all.jsonl.gz"
    assert run_cli(["contexts", "export", str(everything)], data).returncode == 0
    assert gzip.decompress(everything.read_bytes()).decode().splitlines() == lines

    one = tmp_path / "one.jsonl.gz"
    model = "qwen2.5-coder-0.5b"
    assert run_cli(["contexts", "export", str(one), "--model", model], data).returncode == 0
    pinned = BUNDLED[model].sha256
    expected = [ln for ln in lines if json.loads(ln)["model_sha256"] == pinned]
    assert expected and len(expected) < len(lines)
    assert gzip.decompress(one.read_bytes()).decode().splitlines() == expected

    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(b'{"document_sha256": "a"}\n'))
    bad = run_cli(["contexts", "import", str(broken)], data)
    assert bad.returncode == 2 and f"{broken}:1" in bad.stderr


def test_conversations_purge(tmp_path: Path) -> None:
    from datetime import timedelta

    from app.core.conversations import ConversationStore
    from app.core.db import Conversation, Database, utcnow

    data = tmp_path / "data"
    assert run_cli(["db", "upgrade"], data).returncode == 0
    db = Database(f"sqlite:///{data / 'factvault.db'}")
    store = ConversationStore(db)
    old, new = store.create(None).id, store.create(None).id
    with db.session() as s:
        s.get(Conversation, old).updated_at = utcnow() - timedelta(days=10)
    refused = run_cli(["conversations", "purge"], data)  # no age given, no retention set
    assert refused.returncode != 0 and "--older-than-days" in refused.stderr
    done = run_cli(["conversations", "purge", "--older-than-days", "7"], data)
    assert done.returncode == 0, done.stderr
    assert "deleted 1 conversations" in done.stdout
    assert store.get(None, old) is None and store.get(None, new) is not None
    db.dispose()
