"""A crash anywhere in an ingest leaves a state the next run repairs exactly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.core.db import Chunk, Document, DocumentStatus
from app.core.index_versions import active_index
from app.core.runtime import open_runtime
from app.core.vectorstore import PointRecord
from app.retrieval import Retriever
from ingest.pipeline import IngestPipeline
from tests.fixtures import REPO, assert_consistent, sql_chunk_ids

pytestmark = pytest.mark.slow


def test_repair_of_each_crash_state(runtime, corpus: Path) -> None:
    """Build by hand each state a kill can leave, then check one run repairs all of it."""
    pipeline = IngestPipeline(runtime)
    pipeline.ingest_paths([corpus])
    with runtime.db.session() as s:
        index = active_index(s)
        s.expunge(index)
    # 1. killed after the points were written, before the SQL commit: orphan points
    #    (they carry a real document's id and text about leave, so search would find them).
    text = "Every employee gets 99 days of annual leave."
    orphan = PointRecord(
        "00000000-0000-4000-8000-000000000001",
        runtime.embedder.embed_documents([text])[0],
        runtime.bm25().encode_documents([text])[0],
        document_id=1,
        ordinal=99,
        source="/ghost.md",
    )
    runtime.store.upsert(index.collection, [orphan])
    hits = Retriever(runtime).retrieve("annual leave days", 10)
    assert orphan.id not in {h.chunk_id for h in hits}  # never cited before the repair
    # 2. killed after a new document's pending row was committed.
    with runtime.db.session() as s:
        s.add(
            Document(
                source="/half-written.md",
                sha256="0" * 64,
                title=None,
                media_type="text/markdown",
                size_bytes=1,
                status=DocumentStatus.pending,
                chunk_count=0,
            )
        )
    # 3. a point lost behind SQL's back (e.g. a store restored from an older snapshot).
    lost = sorted(sql_chunk_ids(runtime))[0]
    runtime.store.delete(index.collection, [lost])

    report = pipeline.ingest_paths([corpus])
    assert report.repaired_orphans == 1 and report.repaired_missing == 1
    assert report.unchanged == 5
    assert_consistent(runtime)
    with runtime.db.session() as s:
        assert s.scalar(select(Document).where(Document.source == "/half-written.md")) is None


def make_corpus(root: Path, n: int, version: int) -> None:
    root.mkdir(exist_ok=True)
    for i in range(n):
        paragraphs = [
            f"# Report {i} version {version}",
            *(
                f"Paragraph {p} of report {i}: measurement {i * p + version} was logged."
                for p in range(12)
            ),
        ]
        (root / f"report-{i:03d}.md").write_text("\n\n".join(paragraphs) + "\n")


def active_docs(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM documents WHERE status='active'").fetchone()[
                0
            ]
    except sqlite3.Error:
        return 0


def ingest_cmd(corpus: Path) -> list[str]:
    return [sys.executable, "-m", "app.cli", "ingest", str(corpus)]


def kill_when(cmd: list[str], env: dict[str, str], db: Path, threshold: int) -> int:
    """Start an ingest and SIGKILL it once ``threshold`` documents are active."""
    proc = subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if active_docs(db) >= threshold:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=30)
    return proc.returncode


def test_kill_9_mid_ingest_then_rerun(tmp_path: Path, minilm) -> None:
    data = tmp_path / "data"
    corpus = tmp_path / "corpus"
    env = {**os.environ, "FACTVAULT_DATA_DIR": str(data), "FACTVAULT_QDRANT_URL": ""}
    env.pop("FACTVAULT_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, cwd=REPO, check=True
    )
    db = data / "factvault.db"
    n = 40

    make_corpus(corpus, n, version=1)
    killed = [kill_when(ingest_cmd(corpus), env, db, threshold) for threshold in (3, 17)]
    assert killed == [-signal.SIGKILL, -signal.SIGKILL]
    assert 3 <= active_docs(db) < n

    make_corpus(corpus, n, version=2)  # now every file changed: kill while replacing
    before = active_docs(db)
    assert kill_when(ingest_cmd(corpus), env, db, before + 1) == -signal.SIGKILL

    done = subprocess.run(ingest_cmd(corpus), env=env, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    rt = open_runtime(get_settings(data_dir=data, database_url=None, qdrant_url=None), minilm)
    try:
        assert_consistent(rt)
        with rt.db.session() as s:
            docs = s.scalars(select(Document)).all()
        assert len(docs) == n
        with rt.db.session() as s:
            texts = list(s.scalars(select(Chunk.text)))
        assert not any("version 1" in t for t in texts)  # every file is at its new version
        assert sum("version 2" in t for t in texts) == n
    finally:
        rt.close()
